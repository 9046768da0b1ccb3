package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/latchd/latch/api/apitype"
)

const cardsUsage = `usage:
  latchctl cards list USER
  latchctl cards add USER FORMAT FACILITY CARD [--inactive]
  latchctl cards activate|deactivate|delete USER FORMAT FACILITY CARD
FORMAT: h10301, h10306, corp1000_35, h10302, h10304, corp1000_48, raw (FACILITY 0 when the format has none).
USER is a user_id, or ext:EXTERNAL_ID.`

func runCards(args []string, stdout, stderr io.Writer) int {
	action, name, fs, c := actionFlags("cards", args, stderr)
	inactive := fs.Bool("inactive", false, "add the card deactivated")
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	ctx, cancel, err := c.connect(fs)
	if err != nil {
		return fail(stderr, "cards", err)
	}
	defer cancel()

	if action == "list" {
		if len(pos) != 1 {
			return fail(stderr, name, usageError("needs USER", cardsUsage))
		}
		p, err := c.userPath(ctx, pos[0])
		if err != nil {
			return fail(stderr, name, err)
		}
		var out apitype.CardList
		if err := c.do(ctx, http.MethodGet, p+"/cards", nil, &out); err != nil {
			return fail(stderr, name, err)
		}
		tw := newTable(stdout, "FORMAT\tFACILITY\tCARD\tACTIVE")
		for _, cd := range out.Cards {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%v\n", cd.Format, cd.FacilityCode, cd.CardNumber, cd.Active)
		}
		tw.Flush()
		return 0
	}
	if len(pos) != 4 {
		return fail(stderr, name, usageError("needs USER FORMAT FACILITY CARD", cardsUsage))
	}
	fc, err := strconv.ParseUint(pos[2], 10, 32)
	if err != nil {
		return fail(stderr, name, fmt.Errorf("FACILITY %q: must be a decimal number (0 for formats without one)", pos[2]))
	}
	cn, err := strconv.ParseUint(pos[3], 10, 64)
	if err != nil {
		return fail(stderr, name, fmt.Errorf("CARD %q: must be a decimal number", pos[3]))
	}
	p, err := c.userPath(ctx, pos[0])
	if err != nil {
		return fail(stderr, name, err)
	}
	cardPath := fmt.Sprintf("%s/cards/%s/%d/%d", p, url.PathEscape(pos[1]), fc, cn)
	var out apitype.Card
	switch action {
	case "add":
		in := apitype.Card{Format: pos[1], FacilityCode: uint32(fc), CardNumber: cn, Active: !*inactive}
		err = c.do(ctx, http.MethodPost, p+"/cards", in, &out)
	case "activate", "deactivate":
		err = c.do(ctx, http.MethodPost, cardPath+"/"+action, nil, &out)
	case "delete":
		if err := c.do(ctx, http.MethodDelete, cardPath, nil, nil); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "deleted card %s %d %d\n", pos[1], fc, cn)
		return 0
	default:
		fmt.Fprintf(stderr, "latchctl cards: unknown action %q\n%s\n", action, cardsUsage)
		return 2
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stdout, "card %s %d %d active=%v\n", out.Format, out.FacilityCode, out.CardNumber, out.Active)
	return 0
}
