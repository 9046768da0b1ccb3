package mqtt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/schedule"
)

type recordingController struct {
	calls []string
	err   error
}

func (r *recordingController) Unlock(_ context.Context, d string, dur time.Duration, by door.Actor) (time.Duration, error) {
	r.calls = append(r.calls, "unlock "+d+" "+dur.String()+" "+by.Name)
	return dur, r.err
}

func (r *recordingController) Override(_ context.Context, d string, o door.Override, by door.Actor) (door.Status, error) {
	r.calls = append(r.calls, "override "+d+" "+string(o.Mode)+" "+o.For.String()+" "+by.Name)
	return door.Status{}, r.err
}

func (r *recordingController) ClearOverride(_ context.Context, d string, by door.Actor) (door.Status, error) {
	r.calls = append(r.calls, "clear "+d+" "+by.Name)
	return door.Status{}, r.err
}

func TestDoorCommands(t *testing.T) {
	rc := &recordingController{}
	cmds := DoorCommands(func() (DoorController, error) { return rc, nil })
	for _, c := range []string{CmdOpen, CmdUnlock, CmdLock} {
		if err := cmds.DoorCommand(context.Background(), "front", c); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"unlock front 0s mqtt", "override front " + string(schedule.Unlocked) + " " + door.OverrideLimit.Max.String() + " mqtt", "clear front mqtt"}
	for i := range want {
		if rc.calls[i] != want[i] {
			t.Errorf("call %d = %q, want %q", i, rc.calls[i], want[i])
		}
	}
	rc.err = door.ErrLockdown
	if err := cmds.DoorCommand(context.Background(), "front", CmdOpen); !errors.Is(err, door.ErrLockdown) {
		t.Errorf("lockdown: %v", err)
	}
	if err := cmds.DoorCommand(context.Background(), "front", "EXPLODE"); err == nil {
		t.Error("unknown command ran")
	}
}
