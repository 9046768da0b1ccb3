package store

import "time"

// The exported surface the door, the API and latchctl use (go doc ./store):
// this file stops compiling when a signature drifts.
var (
	_ func(Options) (*Store, error)                                    = Open
	_ func() error                                                     = (*Store)(nil).Close
	_ func([]byte) error                                               = ValidateCode
	_ func(time.Time) bool                                             = UserView{}.ActiveAt
	_ func(CardKey) (UserView, bool, error)                            = (*Store)(nil).LookupCard
	_ func(string, []byte, bool) (bool, error)                         = (*Store)(nil).VerifySecondFactor
	_ func([]byte) (UserView, error)                                   = (*Store)(nil).LookupEntryCode
	_ func(UserFields, Actor) (User, error)                            = (*Store)(nil).CreateUser
	_ func(string) (User, error)                                       = (*Store)(nil).User
	_ func(string) (User, error)                                       = (*Store)(nil).UserByExternalID
	_ func(string, UserFields, Actor) (User, error)                    = (*Store)(nil).UpdateUser
	_ func(string, Actor) error                                        = (*Store)(nil).DeleteUser
	_ func(ListQuery) ([]User, string, error)                          = (*Store)(nil).ListUsers
	_ func(string, Card, Actor) error                                  = (*Store)(nil).AddCard
	_ func(string, CardKey, bool, Actor) error                         = (*Store)(nil).SetCardActive
	_ func(string, CardKey, Actor) error                               = (*Store)(nil).DeleteCard
	_ func(string, []byte, Actor) error                                = (*Store)(nil).SetEntryCode
	_ func(string, Actor) error                                        = (*Store)(nil).DeleteEntryCode
	_ func(string, []byte, Actor) (MFACodeInfo, error)                 = (*Store)(nil).AddMFACode
	_ func(string, int, Actor) ([]byte, MFACodeInfo, error)            = (*Store)(nil).GenerateMFACode
	_ func(string) ([]MFACodeInfo, error)                              = (*Store)(nil).MFACodes
	_ func(string, string, []byte, Actor) (MFACodeInfo, error)         = (*Store)(nil).ReplaceMFACode
	_ func(string, string, Actor) error                                = (*Store)(nil).DeleteMFACode
	_ func(string, []byte, Actor) error                                = (*Store)(nil).DeleteMFACodeByValue
	_ func(string, string, Actor) (string, error)                      = (*Store)(nil).CreateToken
	_ func(string) (Token, error)                                      = (*Store)(nil).VerifyToken
	_ func() ([]Token, error)                                          = (*Store)(nil).Tokens
	_ func(string, Actor) error                                        = (*Store)(nil).RevokeToken
	_ func(CardKey, string, []byte, bool) (bool, error)                = (*Store)(nil).VerifyCardCode
	_ func(CardKey, string, []byte, bool) (CodeMatch, error)           = (*Store)(nil).MatchCardCode
	_ func([]byte) (UserView, CodeMatch, error)                        = (*Store)(nil).MatchEntryCode
	_ func(string, []byte, Actor) error                                = (*Store)(nil).SetDuressCode
	_ func(string, Actor) error                                        = (*Store)(nil).DeleteDuressCode
	_ func() (DuressState, error)                                      = (*Store)(nil).DuressState
	_ func(Event) error                                                = (*Store)(nil).RecordDuress
	_ func(Event) (bool, error)                                        = (*Store)(nil).ClearDuress
	_ func() ([]byte, error)                                           = Event{}.MarshalJSON
	_ func([]Event) error                                              = (*Store)(nil).AppendEvents
	_ func(EventQuery) ([]Event, error)                                = (*Store)(nil).Events
	_ func() (uint64, error)                                           = (*Store)(nil).EventsDropped
	_ func(int) (<-chan Event, func())                                 = (*Store)(nil).Subscribe
	_ func(string, Actor, func(ImportProgress)) (ImportSummary, error) = (*Store)(nil).ImportFile
	_ error                                                            = (*ValidationError)(nil)
	_ error                                                            = (*ImportError)(nil)
	_                                                                  = ImportProgress{Rows: 0, Bytes: 0, TotalBytes: 0, Pass: 0}
	_                                                                  = ImportSummary{Rows: 0, UsersCreated: 0, UsersUpdated: 0, CredentialsAdded: 0}
	_                                                                  = RowError{Line: 0, Column: "", Rule: ""}
)
