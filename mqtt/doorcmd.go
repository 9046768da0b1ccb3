package mqtt

import (
	"context"
	"fmt"
	"time"

	"github.com/latchd/latch/door"
	"github.com/latchd/latch/schedule"
)

// ActorMQTT is the actor of every command that came over MQTT (the
// events' actor, docs/operations.md).
const ActorMQTT = "mqtt"

// DoorController is what the commands need of *door.Controller, the one
// command API every driver goes through: the same rules, refusals
// (lockdown, unknown door) and audit events as the API's.
type DoorController interface {
	Unlock(ctx context.Context, door string, d time.Duration, by door.Actor) (time.Duration, error)
	Override(ctx context.Context, door string, o door.Override, by door.Actor) (door.Status, error)
	ClearOverride(ctx context.Context, door string, by door.Actor) (door.Status, error)
}

// DoorCommands is a Commander over the controller it returns (latchd's
// current one: a reload replaces the doors):
//   - OPEN: Unlock for the door's unlock_time, like a remote unlock;
//   - UNLOCK: an unlocked override for the longest override there is
//     (door.OverrideLimit.Max, 7 days), or until LOCK;
//   - LOCK: ClearOverride, back to the schedule.
type DoorCommands func() (DoorController, error)

// DoorCommand runs cmd on doorName with actor mqtt.
func (f DoorCommands) DoorCommand(ctx context.Context, doorName, cmd string) error {
	ctl, err := f()
	if err != nil {
		return err
	}
	by := door.Actor{Name: ActorMQTT}
	switch cmd {
	case CmdOpen:
		_, err = ctl.Unlock(ctx, doorName, 0, by)
	case CmdUnlock:
		_, err = ctl.Override(ctx, doorName, door.Override{Mode: schedule.Unlocked, For: door.OverrideLimit.Max}, by)
	case CmdLock:
		_, err = ctl.ClearOverride(ctx, doorName, by)
	default:
		err = fmt.Errorf("unknown command %q", short(cmd))
	}
	return err
}
