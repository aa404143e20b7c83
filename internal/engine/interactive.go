package engine

import (
	"context"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
)

// interactiveLogin runs a grant that needs a person: authorization code,
// implicit or device code. It is called with the profile lock held.
func (e *Engine) interactiveLogin(ctx context.Context, p *config.Profile, opt LoginOptions) (*Token, error) {
	return nil, fmt.Errorf("profile %q: grant %q is not supported yet", p.Name, p.Grant)
}

// promptPassword asks for the password grant's password on the terminal.
func (e *Engine) promptPassword(p *config.Profile) (string, error) {
	return "", fmt.Errorf("profile %q: no password given; pipe it to lanyard login %s --password-stdin", p.Name, p.Name)
}
