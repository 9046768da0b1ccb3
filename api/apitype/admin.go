package apitype

// Admin is an account of the admin page (docs/web.md): GET /v1/admins
// lists them; the password is never returned.
type Admin struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Created string `json:"created,omitempty"`
}

// AdminList is GET /v1/admins.
type AdminList struct {
	Admins []Admin `json:"admins"`
}

// NewAdmin is the body of POST /v1/admins.
type NewAdmin struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// Password is the body of PUT /v1/admins/{name}/password.
type Password struct {
	Password string `json:"password"`
}
