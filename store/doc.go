// Package store keeps users, credentials, tokens and events in bbolt.
package store
