package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/latchd/latch/api"
	"github.com/latchd/latch/fleet"
	"github.com/latchd/latch/internal/config"
	"github.com/latchd/latch/internal/version"
	"github.com/latchd/latch/store"
)

// startFleet makes this latchd a member of its site (docs/fleet.md): its
// store becomes the site's replica, whose changes go to the site, and the
// sync starts. It returns at once whether NATS answers or not; the doors
// were started before it and decide from the replica throughout. nil
// without [fleet].
func startFleet(ctx context.Context, cfg *config.Config, st *store.Store, s *site, log zerolog.Logger) (*fleet.Member, error) {
	f := cfg.Fleet
	if f == nil {
		return nil, nil
	}
	key, err := store.ReadKeyFile(f.SiteKeyFile)
	if err != nil {
		return nil, fmt.Errorf("latchd: fleet: site key: %w", err)
	}
	m, err := fleet.New(fleet.Config{
		URLs: f.URLs, Site: f.Site, Controller: f.Controller,
		CredsFile: f.CredsFile, User: f.User, PasswordFile: f.PasswordFile, TLSCA: f.TLSCA,
		SiteKey: key, Manager: cfg.FleetRole() == config.RoleManager, Store: st, Logger: log,
		Uploader: s.uploader, EventBacklog: s.eventBacklog, EventMaxAge: f.EventMaxAge, // the site's events (fleetevents.go)
		Doors: func() []fleet.DoorReport {
			var out []fleet.DoorReport
			sts := s.doorStatus()
			views := api.DoorViews(apiConfig(s.config()).Doors, sts)
			for _, d := range sts {
				r := fleet.DoorReport{Name: d.Name, Mode: d.Mode}
				for i := range views {
					if views[i].Name == d.Name {
						r.View = &views[i]
					}
				}
				out = append(out, r)
			}
			return out
		},
		Control: s.controller, // a controller's doors take the site's commands and lockdown
		Version: version.Get().Version,
	})
	if err != nil {
		return nil, fmt.Errorf("latchd: %w", err)
	}
	st.SetRemote(m)
	s.member = m
	if err := m.Start(ctx); err != nil {
		return nil, fmt.Errorf("latchd: %w", err)
	}
	log.Info().Str("site", f.Site).Str("controller", f.Controller).Str("role", cfg.FleetRole()).Msg("fleet: member started; doors decide from the local replica")
	return m, nil
}
