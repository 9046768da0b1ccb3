package apitype

// SiteName is the name a door command takes for this door: on a fleet
// manager, where doors of several controllers may share a name,
// <controller>.<door> (the tail of the door's command subject,
// docs/fleet.md "Door commands across the site"); else the door's name.
func (d DoorState) SiteName() string {
	if d.Controller == "" {
		return d.Name
	}
	return d.Controller + "." + d.Name
}
