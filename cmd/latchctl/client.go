package main

// The HTTP client every API subcommand shares: flags, config, transport,
// error messages.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	latchconfig "github.com/latchd/latch/internal/config"

	"github.com/pelletier/go-toml/v2"

	"github.com/latchd/latch/api/apitype"
)

// defaultConfig is where latchd's config lives on a Pi.
const defaultConfig = "/etc/latch/latch.toml"

// defaultSocket is the API socket when no config says otherwise.
const defaultSocket = "/run/latch/api.sock"

// fileConfig is the part of latch.toml latchctl reads.
type fileConfig struct {
	Controller struct {
		Database string `toml:"database"`
		KeyFile  string `toml:"key_file"`
	} `toml:"controller"`
	API struct {
		Socket string `toml:"socket"`
	} `toml:"api"`
	// Fleet, on a fleet member, holds the site key, which is its
	// database's key (docs/fleet.md).
	Fleet *struct {
		SiteKeyFile string `toml:"site_key_file"`
	} `toml:"fleet"`
}

// keyFile is the database's key file the config names: a fleet member's
// site key, else [controller] key_file ("" when it names none).
func (cfg fileConfig) keyFile() string {
	if cfg.Fleet != nil {
		if cfg.Fleet.SiteKeyFile != "" {
			return cfg.Fleet.SiteKeyFile
		}
		return latchconfig.DefaultSiteKeyFile
	}
	return cfg.Controller.KeyFile
}

// loadConfig reads path; a missing default config is not an error (the
// defaults apply), a missing explicit one is.
// dbPaths fills the database and key file paths the flags left empty: the
// config's [controller] database and key_file, else the defaults.
func (cfg fileConfig) dbPaths(db, key *string) {
	for _, p := range []struct {
		v        *string
		cfg, def string
	}{{db, cfg.Controller.Database, defaultDatabase}, {key, cfg.keyFile(), defaultKeyFile}} {
		if *p.v == "" {
			*p.v = p.cfg
		}
		if *p.v == "" {
			*p.v = p.def
		}
	}
}

func loadConfig(path string, explicit bool) (fileConfig, error) {
	var c fileConfig
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return c, nil
		}
		return c, fmt.Errorf("config %s: %w (pass --config PATH)", path, err)
	}
	if err := toml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("config %s: %w (check it with: latchd check-config %s)", path, err, path)
	}
	dir := filepath.Dir(path)
	paths := []*string{&c.Controller.Database, &c.Controller.KeyFile, &c.API.Socket}
	if c.Fleet != nil {
		paths = append(paths, &c.Fleet.SiteKeyFile)
	}
	for _, p := range paths {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	return c, nil
}

// conn holds the connection flags of an API subcommand.
type conn struct {
	config string
	socket string
	url    string
	ca     string
	token  string
	// tokenFile is --token-file: the token read from a file only its
	// owner may read (tokenfile.go).
	tokenFile string

	httpc *http.Client
	base  string
	// ownerOK lets a request go without a token: token management over the
	// socket, which latchd allows for its own user and root.
	ownerOK bool
}

// addConnFlags registers --config, --socket, --url and --token on fs.
func addConnFlags(fs *flag.FlagSet) *conn {
	c := addConnFlagsBut(fs)
	fs.StringVar(&c.config, "config", defaultConfig, "latchd's config file, for [api].socket")
	return c
}

// addConnFlagsBut registers the connection flags but --config, for a
// command with a --config of its own (import); it sets c.config itself.
func addConnFlagsBut(fs *flag.FlagSet) *conn {
	c := &conn{config: defaultConfig}
	fs.StringVar(&c.socket, "socket", "", "API Unix socket (default: [api].socket of the config, else "+defaultSocket+")")
	fs.StringVar(&c.url, "url", "", "API base URL over TCP, e.g. https://10.0.0.5:8700 (instead of the socket)")
	fs.StringVar(&c.ca, "ca", "", "with an https --url: PEM file of the certificate (or its CA) latchd serves, trusted besides the system's (default: $LATCH_CA)")
	fs.StringVar(&c.token, "token", "", "API token (default: $LATCH_TOKEN). VISIBLE TO EVERY LOCAL USER in ps and /proc/PID/cmdline, and kept in the shell history: prefer --token-file or LATCH_TOKEN_FILE")
	fs.StringVar(&c.tokenFile, "token-file", "", "read the API token from FILE, which must not be readable by group or others (chmod 600) (default: $LATCH_TOKEN_FILE)")
	return c
}

// connect does setup and starts the deadline of one request (timeout).
// The caller defers cancel when err is nil.
func (c *conn) connect(fs *flag.FlagSet) (ctx context.Context, cancel context.CancelFunc, err error) {
	if err := c.setup(fs); err != nil {
		return nil, nil, err
	}
	ctx, cancel = context.WithTimeout(context.Background(), timeout)
	return ctx, cancel, nil
}

// setup resolves where to connect and which token to send.
func (c *conn) setup(fs *flag.FlagSet) error {
	explicit := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "config" {
			explicit = true
		}
	})
	if err := c.resolveToken(); err != nil {
		return err
	}
	if c.url != "" {
		u, err := url.Parse(c.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Not the URL itself: it might carry a password.
			return errors.New("--url: must be like http://HOST:PORT")
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			// Name only the harmless parts: the rest might carry a secret.
			return fmt.Errorf("--url %s://%s%s…: give only scheme, host, port and path; the token goes in LATCH_TOKEN", u.Scheme, u.Host, u.EscapedPath())
		}
		c.base = strings.TrimRight(c.url, "/")
		c.httpc = &http.Client{}
		if c.ca == "" {
			c.ca = os.Getenv("LATCH_CA")
		}
		if c.ca != "" {
			if u.Scheme != "https" {
				return errors.New("--ca: only with an https --url")
			}
			pem, err := os.ReadFile(c.ca)
			if err != nil {
				return fmt.Errorf("--ca: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("--ca %s: no PEM certificate in it", c.ca)
			}
			c.httpc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		return nil
	}
	sock := c.socket
	if sock == "" {
		cfg, err := loadConfig(c.config, explicit)
		if err != nil {
			return err
		}
		sock = cfg.API.Socket
	}
	if sock == "" {
		sock = defaultSocket
	}
	c.socket = sock
	c.base = "http://latchd"
	c.httpc = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	return nil
}

// apiError is an error reply from latchd.
type apiError struct {
	Status int
	Body   apitype.Error
}

func (e *apiError) Error() string {
	msg := strings.TrimPrefix(e.Body.Error, "api: ")
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		return msg + "\n  set LATCH_TOKEN to a valid token (latchctl token create --name NAME --role ROLE, on the Pi)"
	case http.StatusForbidden:
		return msg + "\n  use a token whose role may do this (latchctl token list shows roles)"
	case http.StatusTooManyRequests:
		return msg
	case http.StatusNotFound:
		if h := notFoundHint(msg); h != "" {
			msg += "\n  " + h
		}
	}
	for _, r := range e.Body.Rows {
		msg += fmt.Sprintf("\n  line %d, column %s: %s", r.Line, r.Column, r.Rule)
	}
	return msg
}

// do sends a request with an optional JSON body and decodes a JSON reply
// into out (when non-nil).
func (c *conn) do(ctx context.Context, method, path string, in, out any) error {
	resp, err := c.send(ctx, method, path, in, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: bad reply from latchd: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a 2xx response; other statuses become
// *apiError.
func (c *conn) send(ctx context.Context, method, path string, in any, contentType string) (*http.Response, error) {
	var body io.Reader
	switch v := in.(type) {
	case nil:
	case io.Reader:
		body = v
	default:
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		contentType = "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if sz, ok := in.(interface{ Size() int64 }); ok {
		req.ContentLength = sz.Size() // a file upload: latchd checks the size first
	}
	if c.token == "" && !c.ownerOK {
		return nil, errors.New("no API token: set LATCH_TOKEN_FILE (or pass --token-file FILE, or set LATCH_TOKEN); create one on the Pi with: latchctl token create --name NAME --role ROLE")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, c.dialHint(err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		ae := &apiError{Status: resp.StatusCode}
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&ae.Body)
		return nil, ae
	}
	return resp, nil
}

// dialHint explains a connection failure.
func (c *conn) dialHint(err error) error {
	// Strip the request URL net/http adds: it is our placeholder host.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if c.url != "" {
		return fmt.Errorf("cannot reach latchd at %s: %w (is [api].listen set and the daemon running?)", c.url, err)
	}
	hint := "is latchd running? (systemctl status latchd)"
	if errors.Is(err, os.ErrPermission) {
		hint = "run as the daemon's user or a member of the socket's group"
	}
	return fmt.Errorf("cannot reach latchd on %s: %w (%s; or pass --socket PATH / --url URL)", c.socket, err, hint)
}

// parseArgs parses flags wherever they stand among the positional
// arguments ("mfa add alice --generate" as well as "mfa add --generate
// alice"); everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, left[0])
		args = left[1:]
	}
}

// newFlags is a FlagSet that reports to stderr and does not exit.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("latchctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	setActionUsage(fs)
	return fs
}

// actionFlags starts a command whose first argument is an action (cards
// add, users list): it returns the action, the name messages give ("cards
// add"), and a flag set of that name with the connection flags on it. The
// flags and positional arguments are args[1:].
func actionFlags(cmd string, args []string, stderr io.Writer) (action, name string, fs *flag.FlagSet, c *conn) {
	action = args[0]
	name = cmd + " " + action
	fs = newFlags(name, stderr)
	return action, name, fs, addConnFlags(fs)
}

// newTable starts a table on w: columns aligned by tabs, the header line
// (its column names separated by tabs) already written. Flush it when done.
func newTable(w io.Writer, header string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	return tw
}

// usageError is a wrong command line: what is wrong, then the command's
// usage text on the lines below it.
func usageError(what, usage string) error { return errors.New(what + "\n" + usage) }

// fail prints err for the command name and returns exit status 1.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "latchctl %s: %s\n", name, forPeople(err.Error()))
	return 1
}

// timeout bounds one non-streaming request.
const timeout = 2 * time.Minute

// userPath resolves USER to its /v1/users/{id} path. USER is a user_id, or
// ext:EXTERNAL_ID to look the user up by external_id.
func (c *conn) userPath(ctx context.Context, user string) (string, error) {
	id, err := c.resolveUser(ctx, user)
	if err != nil {
		return "", err
	}
	return "/v1/users/" + url.PathEscape(id), nil
}

func (c *conn) resolveUser(ctx context.Context, user string) (string, error) {
	if user == "" {
		return "", errors.New("USER is empty: give a user_id, or ext:EXTERNAL_ID")
	}
	ext, ok := strings.CutPrefix(user, "ext:")
	if !ok {
		return user, nil
	}
	after := ""
	for {
		var page apitype.UserPage
		q := url.Values{"search": {ext}, "limit": {"1000"}}
		if after != "" {
			q.Set("after", after)
		}
		if err := c.do(ctx, http.MethodGet, "/v1/users?"+q.Encode(), nil, &page); err != nil {
			return "", err
		}
		for _, u := range page.Users {
			if u.ExternalID == ext {
				return u.UserID, nil
			}
		}
		if page.Next == "" {
			return "", fmt.Errorf("no user with external_id %q (latchctl users list --search %s)", ext, ext)
		}
		after = page.Next
	}
}
