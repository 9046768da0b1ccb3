package gpiosim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ConfigFS is where gpio-sim's configfs tree is mounted.
const ConfigFS = "/sys/kernel/config/gpio-sim"

// Chip is one live gpio-sim device with one bank.
type Chip struct {
	dir   string // configfs folder of the device
	Dev   string // /dev/gpiochipN
	sysfs string // /sys/devices/platform/<dev_name>/<chip_name>
	lines map[string]int
}

// New creates a live gpio-sim device called name whose lines are named
// names (line i gets names[i]; "" leaves a line unnamed).
func New(name string, names []string) (*Chip, error) {
	if _, err := os.Stat(ConfigFS); err != nil {
		return nil, fmt.Errorf("gpiosim: %w (a kernel with CONFIG_GPIO_SIM, configfs mounted at /sys/kernel/config)", err)
	}
	dir := filepath.Join(ConfigFS, name)
	bank := filepath.Join(dir, "gpio-bank0")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("gpiosim: %w", err)
	}
	c := &Chip{dir: dir, lines: map[string]int{}}
	if err := os.Mkdir(bank, 0o755); err != nil {
		c.Close()
		return nil, fmt.Errorf("gpiosim: %w", err)
	}
	steps := []struct{ path, value string }{{filepath.Join(bank, "num_lines"), fmt.Sprint(len(names))}}
	for i, n := range names {
		if n == "" {
			continue
		}
		line := filepath.Join(bank, fmt.Sprintf("line%d", i))
		if err := os.Mkdir(line, 0o755); err != nil {
			c.Close()
			return nil, fmt.Errorf("gpiosim: %w", err)
		}
		steps = append(steps, struct{ path, value string }{filepath.Join(line, "name"), n})
		c.lines[n] = i
	}
	steps = append(steps, struct{ path, value string }{filepath.Join(dir, "live"), "1"})
	for _, s := range steps {
		if err := os.WriteFile(s.path, []byte(s.value), 0o644); err != nil {
			c.Close()
			return nil, fmt.Errorf("gpiosim: %w", err)
		}
	}
	devName, err1 := readTrim(filepath.Join(dir, "dev_name"))
	chipName, err2 := readTrim(filepath.Join(bank, "chip_name"))
	if err := errors.Join(err1, err2); err != nil {
		c.Close()
		return nil, fmt.Errorf("gpiosim: %w", err)
	}
	c.Dev = "/dev/" + chipName
	c.sysfs = filepath.Join("/sys/devices/platform", devName, chipName)
	// devtmpfs makes the device node a moment after the chip is live.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := os.Stat(c.Dev); err == nil {
			break
		} else if time.Now().After(deadline) {
			c.Close()
			return nil, fmt.Errorf("gpiosim: %s did not appear: %w", c.Dev, err)
		}
		time.Sleep(time.Millisecond)
	}
	return c, nil
}

func readTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// Offset returns the offset of the line called name.
func (c *Chip) Offset(name string) int {
	off, ok := c.lines[name]
	if !ok {
		panic("gpiosim: no line " + name)
	}
	return off
}

func (c *Chip) attr(name, attr string) string {
	return filepath.Join(c.sysfs, fmt.Sprintf("sim_gpio%d", c.Offset(name)), attr)
}

// Set pulls the line called name up (true) or down (false). On a line
// requested as an input this is its level, and the kernel reports the
// edge; on an output it is the level left when the line is released.
func (c *Chip) Set(name string, high bool) error {
	v := "pull-down"
	if high {
		v = "pull-up"
	}
	f, err := os.OpenFile(c.attr(name, "pull"), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("gpiosim: %w", err)
	}
	_, err = f.WriteString(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gpiosim: set %s %s: %w", name, v, err)
	}
	return nil
}

// Value reads the line's level: what an output is driven to, or an
// unrequested line's pull.
func (c *Chip) Value(name string) (bool, error) {
	s, err := readTrim(c.attr(name, "value"))
	if err != nil {
		return false, fmt.Errorf("gpiosim: %w", err)
	}
	switch s {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, fmt.Errorf("gpiosim: %s value %q", name, s)
}

// Close takes the device down and removes it.
func (c *Chip) Close() error {
	_ = os.WriteFile(filepath.Join(c.dir, "live"), []byte("0"), 0o644)
	var errs []error
	entries, _ := filepath.Glob(filepath.Join(c.dir, "gpio-bank0", "line*"))
	for _, e := range entries {
		errs = append(errs, os.Remove(e))
	}
	_ = os.Remove(filepath.Join(c.dir, "gpio-bank0"))
	errs = append(errs, os.Remove(c.dir))
	return errors.Join(errs...)
}

// Wiegand sends bits ('0' a pulse on d0, '1' on d1) as falling-then-rising
// pulls, one bit every interval. The pulse is as short as two attribute
// writes; the interval is paced on the wall clock, because this is the
// signal itself (a reader sends its bits at its own pace), not a wait.
// Choose an interval the VM keeps steady (docs/hil.md).
func (c *Chip) Wiegand(d0, d1, bits string, interval time.Duration) error {
	next := time.Now()
	for i, b := range bits {
		line := d0
		switch b {
		case '0':
		case '1':
			line = d1
		default:
			return fmt.Errorf("gpiosim: bit %d is %q, not 0 or 1", i, b)
		}
		time.Sleep(time.Until(next))
		if err := c.Set(line, false); err != nil {
			return err
		}
		if err := c.Set(line, true); err != nil {
			return err
		}
		next = next.Add(interval)
	}
	return nil
}
