package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/grant"
)

// PluginsCmd lists grant plugins.
type PluginsCmd struct {
	Name string `arg:"" optional:"" help:"Show one plugin in detail, with its settings."`
	JSON bool   `name:"json" help:"Print JSON."`
}

// PluginInfo is one plugin binary lanyard found.
type PluginInfo struct {
	Name    string `json:"name"`
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	// ShadowedBy is the plugin of the same name earlier on the search
	// path, which is the one lanyard runs.
	ShadowedBy string          `json:"shadowed_by,omitempty"`
	Settings   []PluginSetting `json:"settings,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// PluginSetting is one entry of a plugin's settings schema.
type PluginSetting struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
}

// Run finds the plugins, starts each one lanyard would run to ask its
// version (Describe), and prints name, version, sha256 and path. It needs
// no profiles file and no keyring.
func (c *PluginsCmd) Run(ctx context.Context, env *Env) error {
	host := engine.NewPluginHost(env.Getenv, env.Stderr, env.Debug)
	files := host.List()
	if c.Name != "" {
		path, err := host.Find(c.Name)
		if err != nil {
			return err
		}
		var keep = files[:0]
		for _, f := range files {
			if f.Name == c.Name {
				keep = append(keep, f)
			}
		}
		files = keep
		if len(files) == 0 || files[0].Path != path {
			return fmt.Errorf("plugin %q found at %s but not listed; this is a bug", c.Name, path)
		}
	}
	infos := make([]PluginInfo, 0, len(files))
	failed := 0
	for _, f := range files {
		info := PluginInfo{Name: f.Name, Path: f.Path, ShadowedBy: f.ShadowedBy}
		sum, err := grant.FileSHA256(f.Path)
		if err != nil {
			info.Error = err.Error()
			failed++
			infos = append(infos, info)
			continue
		}
		info.SHA256 = sum
		if f.ShadowedBy == "" {
			// Run exactly the bytes just hashed.
			d, err := host.Describe(ctx, f.Name, f.Path, sum)
			if err != nil {
				info.Error = err.Error()
				failed++
			} else {
				info.Version = d.Version
				for _, s := range d.Settings {
					info.Settings = append(info.Settings, PluginSetting{Name: s.Name, Description: s.Description, Required: s.Required, Secret: s.Secret})
				}
			}
		}
		infos = append(infos, info)
	}
	switch {
	case c.JSON:
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(infos); err != nil {
			return err
		}
	case c.Name != "":
		printPluginDetail(env, infos)
	case len(infos) == 0:
		fmt.Fprintf(env.Stderr, "lanyard: no grant plugins found; install lanyard-grant-NAME binaries in %s or on PATH\n", host.Dirs[0])
	default:
		printPluginTable(env, infos)
	}
	if failed > 0 {
		return &exitCodeError{Code: exitError}
	}
	return nil
}

func printPluginTable(env *Env, infos []PluginInfo) {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tVERSION\tSHA256\tPATH")
	for _, i := range infos {
		version := i.Version
		switch {
		case i.Error != "":
			version = "error (below)"
		case i.ShadowedBy != "":
			version = "(not used: shadowed by " + i.ShadowedBy + ")"
		case version == "":
			version = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", i.Name, version, orDash(i.SHA256), i.Path)
	}
	w.Flush()
	for _, i := range infos {
		if i.Error != "" {
			fmt.Fprintf(env.Stderr, "lanyard: plugin %s: %s\n", i.Name, i.Error)
		}
	}
}

func printPluginDetail(env *Env, infos []PluginInfo) {
	for n, i := range infos {
		if n > 0 {
			fmt.Fprintln(env.Stdout)
		}
		fmt.Fprintf(env.Stdout, "name:     %s\npath:     %s\n", i.Name, i.Path)
		if i.ShadowedBy != "" {
			fmt.Fprintf(env.Stdout, "not used: shadowed by %s\n", i.ShadowedBy)
		}
		if i.Version != "" {
			fmt.Fprintf(env.Stdout, "version:  %s\n", i.Version)
		}
		if i.SHA256 != "" {
			fmt.Fprintf(env.Stdout, "sha256:   %s\npin it:   plugin_sha256 = %q\n", i.SHA256, i.SHA256)
		}
		if i.Error != "" {
			fmt.Fprintf(env.Stdout, "error:    %s\n", i.Error)
		}
		if len(i.Settings) == 0 {
			continue
		}
		fmt.Fprintf(env.Stdout, "settings ([profiles.NAME.plugin]):\n")
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		for _, s := range i.Settings {
			var flags []string
			if s.Required {
				flags = append(flags, "required")
			}
			if s.Secret {
				flags = append(flags, "secret reference")
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", s.Name, orDash(strings.Join(flags, ", ")), s.Description)
		}
		w.Flush()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
