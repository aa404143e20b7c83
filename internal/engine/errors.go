package engine

import (
	"errors"
	"fmt"
)

// LoginRequiredError means no token can be had without a person logging in.
// Its message ends with the command to run.
type LoginRequiredError struct {
	Profile string
	Reason  string
}

func (e *LoginRequiredError) Error() string {
	return fmt.Sprintf("profile %q: %s; run: lanyard login %s", e.Profile, e.Reason, e.Profile)
}

// IsLoginRequired reports whether err asks for lanyard login.
func IsLoginRequired(err error) bool {
	var le *LoginRequiredError
	return errors.As(err, &le)
}
