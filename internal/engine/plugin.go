package engine

import (
	"context"
	"fmt"

	"github.com/lanyardhq/lanyard/internal/config"
)

// runPlugin obtains a token from an external grant plugin. Plugins start
// only here, on the slow path under the profile lock.
func (e *Engine) runPlugin(ctx context.Context, p *config.Profile, cached *Token) (*Token, error) {
	return nil, fmt.Errorf("profile %q: grant %q: plugin grants are not available in this build", p.Name, p.Grant)
}
