package door

import "github.com/latchd/latch/schedule"

// overrideCmd is an override command to m for a week from d's clock
// (schedule.Unknown: clear), as the Controller sends it.
func overrideCmd(d *driver, m schedule.Mode) inCommand {
	c := cmdOverride{mode: m, by: Actor{Name: "test"}}
	if m != schedule.Unknown {
		c.until = d.now.Add(OverrideLimit.Max)
	}
	return inCommand{cmd: c, reply: make(chan error, 1)}
}

// command steps cmd on d and returns the door's answer.
func (d *driver) command(cmd any) error {
	reply := make(chan error, 1)
	d.step(inCommand{cmd: cmd, reply: reply})
	select {
	case err := <-reply:
		return err
	default:
		panic("door: command not answered in its step")
	}
}
