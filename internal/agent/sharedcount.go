package agent

import (
	"context"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/metrics"
)

// CountShared makes open's team tiers count their operations in m.
func CountShared(open engine.OpenSharedFunc, m *metrics.Metrics) engine.OpenSharedFunc {
	if open == nil || m == nil {
		return open
	}
	return func(ctx context.Context, cfg *config.SharedTier, secrets config.SecretSource) (engine.SharedTier, error) {
		t, err := open(ctx, cfg, secrets)
		m.Shared("open", err)
		if err != nil {
			return nil, err
		}
		return &countedTier{SharedTier: t, m: m}, nil
	}
}

type countedTier struct {
	engine.SharedTier
	m *metrics.Metrics
}

func (c *countedTier) Refresh(ctx context.Context, profile string, fresh func(*engine.Token) bool, obtain func(cur *engine.Token) (*engine.Token, bool, error)) (*engine.Token, error) {
	t, err := c.SharedTier.Refresh(ctx, profile, fresh, obtain)
	c.m.Shared("refresh", err)
	return t, err
}

func (c *countedTier) Put(ctx context.Context, profile string, t *engine.Token) error {
	err := c.SharedTier.Put(ctx, profile, t)
	c.m.Shared("put", err)
	return err
}
