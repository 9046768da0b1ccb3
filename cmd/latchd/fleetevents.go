package main

import (
	"fmt"

	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/outbox"
	"github.com/latchd/latch/store"
)

// fleetUploader is a fleet controller's event upload, one more outbox
// destination (docs/fleet.md "Events"); nil for a manager or without
// [fleet]. Its cursor starts at the start of the local log the first
// time.
func fleetUploader(cfg *config.Config, st *store.Store) (*fleet.Uploader, error) {
	if cfg.FleetRole() != config.RoleController {
		return nil, nil
	}
	up, err := fleet.NewUploader(cfg.Fleet.Site, cfg.Fleet.Controller)
	if err != nil {
		return nil, fmt.Errorf("latchd: %w", err)
	}
	if err := fleet.InitUploadCursor(st); err != nil {
		return nil, fmt.Errorf("latchd: fleet: %w", err)
	}
	return up, nil
}

// destBacklog reports destination name's backlog in ob (the status's
// event_backlog).
func destBacklog(ob *outbox.Outbox, name string) func() uint64 {
	return func() uint64 {
		for _, s := range ob.Stats() {
			if s.Name == name {
				return s.Backlog
			}
		}
		return 0
	}
}

// fleetController is the name a fleet member's events carry ("" without
// [fleet]).
func fleetController(cfg *config.Config) string {
	if cfg.Fleet == nil {
		return ""
	}
	return cfg.Fleet.Controller
}
