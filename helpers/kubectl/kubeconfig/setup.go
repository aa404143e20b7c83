package kubeconfig

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lanyardhq/lanyard/helpers/kubectl"
	"github.com/lanyardhq/lanyard/internal/atomicfile"
	"github.com/lanyardhq/lanyard/internal/config"
)

// KubeconfigPath returns the kubeconfig kubectl would write: flagValue
// (--kubeconfig), else the first entry of $KUBECONFIG, else ~/.kube/config.
func KubeconfigPath(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	for _, p := range filepath.SplitList(getenv("KUBECONFIG")) {
		if p != "" {
			return p
		}
	}
	return filepath.Join(getenv("HOME"), ".kube", "config")
}

// Setup writes the kubeconfig user entry that runs get-token.
func Setup(args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	flags := flag.NewFlagSet("setup", flag.ContinueOnError)
	flags.SetOutput(stderr)
	profile := flags.String("profile", "", "lanyard profile the user entry gets its tokens from (required, unless --cluster-aware)")
	clusterAware := flags.Bool("cluster-aware", false, "one user entry for many clusters: kubectl passes the cluster (provideClusterInfo: true) and the profile is picked from the cluster's extension "+kubectl.ClusterExtension+" (profile: NAME), else by match against the cluster's server URL")
	interactiveMode := flags.String("interactive-mode", "IfAvailable", "exec interactiveMode: Never, IfAvailable or Always (as client-go defines them)")
	kubeconfig := flags.String("kubeconfig", "", "kubeconfig to edit (default: first entry of $KUBECONFIG, else ~/.kube/config)")
	user := flags.String("user", "", "name of the kubeconfig user entry (default: lanyard-PROFILE, or lanyard with --cluster-aware)")
	context := flags.String("context", "", "existing context to switch to this user (default: change no context)")
	apiVersion := flags.String("api-version", "v1", "ExecCredential version: v1 (kubectl 1.22+) or v1beta1")
	use := flags.String("use", "", "token kubectl receives: access_token or id_token (default: the profile's use key)")
	command := flags.String("command", "kubectl-lanyard", "command kubectl runs; a full path helps tools that do not share your PATH")
	if err := kubectl.ParseFlags(flags, args); err != nil {
		return err
	}
	switch {
	case *clusterAware && *profile != "":
		return kubectl.Usage(errors.New("setup takes --profile or --cluster-aware, not both: with --cluster-aware each cluster names its profile (extension " + kubectl.ClusterExtension + ") or a profile's match serves its server"))
	case !*clusterAware && *profile == "":
		return kubectl.Usage(errors.New("setup needs --profile (a profile of the lanyard profiles file), or --cluster-aware for one user entry that picks the profile by cluster"))
	}
	switch *interactiveMode {
	case "Never", "IfAvailable", "Always":
	default:
		return kubectl.Usage(fmt.Errorf("--interactive-mode %q is not valid; use Never, IfAvailable or Always", *interactiveMode))
	}
	if err := kubectl.CheckUse(*use); err != nil {
		return err
	}
	var version string
	switch *apiVersion {
	case "v1", kubectl.APIVersionV1:
		version = kubectl.APIVersionV1
	case "v1beta1", kubectl.APIVersionV1Beta1:
		version = kubectl.APIVersionV1Beta1
	default:
		return kubectl.Usage(fmt.Errorf("--api-version %q is not supported; use v1 or v1beta1", *apiVersion))
	}
	// A typo in the profile would only show at the next kubectl call.
	cfg, err := config.Load(config.Path(getenv))
	if err != nil {
		return kubectl.Usage(err)
	}
	if *profile != "" {
		if _, err := cfg.Profile(*profile); err != nil {
			return kubectl.Usage(err)
		}
	}
	if *user == "" {
		*user = "lanyard-" + *profile
		if *clusterAware {
			*user = "lanyard"
		}
	}
	execArgs := []string{"get-token", "--profile", *profile}
	if *clusterAware {
		execArgs = []string{"get-token"}
	}
	if *use != "" {
		execArgs = append(execArgs, "--use", *use)
	}

	path := KubeconfigPath(*kubeconfig, getenv)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // write through a symlinked kubeconfig, not over the link
	}
	unlock, err := lockKubeconfig(path)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("could not read kubeconfig: %w", err)
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	res, err := EditKubeconfig(path, data, KubeconfigEdit{
		User: *user, Context: *context, APIVersion: version, Command: *command, Args: execArgs,
		InteractiveMode: *interactiveMode, ProvideClusterInfo: *clusterAware,
	})
	if err != nil {
		return err
	}
	if res.Changed {
		if err := writeFileAtomic(path, res.Data, mode); err != nil {
			return err
		}
	}
	run := kubectl.JoinArgs(append([]string{*command}, execArgs...))
	switch {
	case !res.Changed:
		fmt.Fprintf(stdout, "%s: user %q already runs: %s\n", path, *user, run)
	case res.CreatedUser:
		fmt.Fprintf(stdout, "%s: added user %q, which runs: %s\n", path, *user, run)
	default:
		fmt.Fprintf(stdout, "%s: user %q now runs: %s\n", path, *user, run)
	}
	if *clusterAware {
		fmt.Fprintf(stdout, "each cluster gets the profile its kubeconfig extension %s names (extension: {profile: NAME}), else the profile whose match serves its server URL\n", kubectl.ClusterExtension)
	}
	if len(res.Removed) > 0 {
		fmt.Fprintf(stdout, "removed %s from user %q: lanyard provides its credentials now\n", strings.Join(res.Removed, ", "), *user)
	}
	switch {
	case res.ContextChanged && res.PreviousUser != "":
		fmt.Fprintf(stdout, "context %q now uses user %q (was %q)\n", *context, *user, res.PreviousUser)
	case res.ContextChanged:
		fmt.Fprintf(stdout, "context %q now uses user %q\n", *context, *user)
	case *context == "":
		fmt.Fprintf(stdout, "to use it: kubectl config set-context --current --user=%s\n", kubectl.JoinArgs([]string{*user}))
	}
	return nil
}

// lockKubeconfig takes the lock file kubectl itself uses (clientcmd's
// "PATH.lock", created exclusively), so setup and kubectl config never
// write the file at the same time.
func lockKubeconfig(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("could not create the kubeconfig directory: %w", err)
	}
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("kubeconfig %s is locked by another kubectl (%s exists); retry, or remove the lock file if no kubectl is running", path, lock)
	}
	if err != nil {
		return nil, fmt.Errorf("could not lock kubeconfig: %w", err)
	}
	f.Close()
	return func() { _ = os.Remove(lock) }, nil
}

// writeFileAtomic replaces path with data through a temporary file in the
// same directory, so a crash never leaves half a kubeconfig.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	if err := atomicfile.Write(path, data, mode); err != nil {
		return fmt.Errorf("could not write kubeconfig: %w", err)
	}
	return nil
}
