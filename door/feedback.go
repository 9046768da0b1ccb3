package door

import "time"

// Reader feedback patterns (docs/door.md, "Reader feedback"). The durations are latch's own
// choice of what reads well at a door, not hardware limits: a beep of
// 100–200 ms is clearly audible on common piezo reader beepers, and a 1 Hz
// flash reads as "waiting".

type segment struct {
	d                  time.Duration
	green, red, beeper bool
}

type pattern struct {
	segs []segment
	loop int // index to repeat from after the last segment; -1 = stop (all off)
}

var (
	// patGrant: green and one beep.
	patGrant = pattern{loop: -1, segs: []segment{
		{200 * time.Millisecond, true, false, true},
		{1800 * time.Millisecond, true, false, false},
	}}
	// patDeny: red and three short beeps.
	patDeny = pattern{loop: -1, segs: []segment{
		{100 * time.Millisecond, false, true, true},
		{100 * time.Millisecond, false, true, false},
		{100 * time.Millisecond, false, true, true},
		{100 * time.Millisecond, false, true, false},
		{100 * time.Millisecond, false, true, true},
		{1500 * time.Millisecond, false, true, false},
	}}
	// patAwait: a short beep, then amber (green and red together) flashing
	// slowly until the code is in.
	patAwait = pattern{loop: 1, segs: []segment{
		{150 * time.Millisecond, true, true, true},
		{500 * time.Millisecond, true, true, false},
		{500 * time.Millisecond, false, false, false},
	}}
)

type feedbackState struct {
	pat                *pattern
	seg                int
	segEnd             time.Time
	green, red, beeper bool // levels last commanded
}

func (f *feedbackState) set(o *out, rdr string, g, r, b bool) {
	if g == f.green && r == f.red && b == f.beeper {
		return
	}
	f.green, f.red, f.beeper = g, r, b
	o.acts = append(o.acts, actFeedback{reader: rdr, green: g, red: r, beeper: b})
}

func (f *feedbackState) start(o *out, rdr string, p *pattern) {
	f.pat, f.seg = p, 0
	f.segEnd = o.now.Add(p.segs[0].d)
	sg := p.segs[0]
	f.set(o, rdr, sg.green, sg.red, sg.beeper)
}

func (f *feedbackState) stop(o *out, rdr string) {
	f.pat = nil
	f.segEnd = time.Time{}
	f.set(o, rdr, false, false, false)
}

func (f *feedbackState) advance(o *out, rdr string, now time.Time) {
	for f.pat != nil && !now.Before(f.segEnd) {
		f.seg++
		if f.seg >= len(f.pat.segs) {
			if f.pat.loop < 0 {
				f.stop(o, rdr)
				return
			}
			f.seg = f.pat.loop
		}
		f.segEnd = f.segEnd.Add(f.pat.segs[f.seg].d)
		if f.segEnd.Before(now) { // far behind (a stalled loop): restart the cadence now
			f.segEnd = now.Add(f.pat.segs[f.seg].d)
		}
	}
	if f.pat != nil {
		sg := f.pat.segs[f.seg]
		f.set(o, rdr, sg.green, sg.red, sg.beeper)
	}
}
