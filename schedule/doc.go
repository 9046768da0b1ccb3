// Package schedule evaluates weekly windows and dated exceptions in a
// door's time zone: which mode a door is in now, and when that changes next.
package schedule
