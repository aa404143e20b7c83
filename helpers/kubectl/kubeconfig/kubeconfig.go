package kubeconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// KubeconfigEdit is the user entry kubectl lanyard setup writes.
type KubeconfigEdit struct {
	// User is the users[].name to write or update.
	User string
	// Context, when set, names an existing context whose user becomes User.
	Context string
	// APIVersion is the exec entry's ExecCredential apiVersion.
	APIVersion string
	// Command and Args are what kubectl runs.
	Command string
	Args    []string
	// InteractiveMode is the exec entry's interactiveMode (Never,
	// IfAvailable, Always); "" means IfAvailable.
	InteractiveMode string
	// ProvideClusterInfo makes client-go pass the cluster (server URL and
	// the cluster's client.authentication.k8s.io/exec extension) to the
	// plugin, which then picks the profile by cluster.
	ProvideClusterInfo bool
}

// EditResult says what EditKubeconfig changed.
type EditResult struct {
	// Data is the new file; equal to the input when nothing changed.
	Data    []byte
	Changed bool
	// CreatedUser is set when the users entry did not exist before.
	CreatedUser bool
	// Removed lists credentials taken out of the user entry because they
	// would compete with the exec plugin (token, username, ...).
	Removed []string
	// ContextChanged is set when the context's user was changed;
	// PreviousUser is the user it had.
	ContextChanged bool
	PreviousUser   string
}

// installHint is shown by kubectl when the exec command is not found.
const installHint = "install lanyard (make install) so that kubectl-lanyard is on PATH, or rerun kubectl lanyard setup with --command /full/path/to/kubectl-lanyard"

// kubeconfigKeys are the top-level keys of a clientcmd v1 Config.
var kubeconfigKeys = []string{"apiVersion", "kind", "preferences", "clusters", "users", "contexts", "current-context", "extensions"}

// competingAuth are user fields that make client-go send something other
// than the exec plugin's token (or, for auth-provider, refuse the entry).
var competingAuth = []string{"token", "tokenFile", "username", "password", "auth-provider"}

// EditKubeconfig writes e into the kubeconfig data read from path (path is
// only for messages). Empty data starts a new kubeconfig. It refuses a file
// that is not a kubeconfig rather than guess. Everything it does not change
// is kept: comments and key order always, and the bytes of every top-level
// section and list entry it did not touch.
func EditKubeconfig(path string, data []byte, e KubeconfigEdit) (*EditResult, error) {
	notKube := func(format string, args ...any) error {
		return fmt.Errorf("%s is not a kubeconfig (%s); nothing was changed: pass the right file with --kubeconfig", path, fmt.Sprintf(format, args...))
	}
	var doc *yaml.Node
	empty := len(bytes.TrimSpace(data)) == 0
	if !empty {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		var d yaml.Node
		if err := dec.Decode(&d); err != nil && !errors.Is(err, io.EOF) {
			return nil, notKube("not YAML: %v", err)
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
			return nil, notKube("more than one YAML document")
		}
		if len(d.Content) == 0 {
			empty = true // only comments
		} else {
			doc = &d
		}
	}
	if doc == nil {
		doc = &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Content: []*yaml.Node{
			str("apiVersion"), str("v1"), str("kind"), str("Config"),
		}}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, notKube("the top level is not a mapping")
	}
	if _, v := mapGet(root, "kind"); v != nil && v.Value != "Config" {
		return nil, notKube("kind is %q, not Config", v.Value)
	}
	if _, v := mapGet(root, "apiVersion"); v != nil && v.Value != "v1" {
		return nil, notKube("apiVersion is %q, not v1", v.Value)
	}
	seen := map[string]bool{}
	for i := 0; i < len(root.Content); i += 2 {
		k := root.Content[i].Value
		if !slices.Contains(kubeconfigKeys, k) {
			return nil, notKube("unknown top-level key %q at line %d", k, root.Content[i].Line)
		}
		if seen[k] {
			return nil, notKube("key %q appears twice", k)
		}
		seen[k] = true
	}
	if !empty && !seen["kind"] && !seen["apiVersion"] && !seen["clusters"] && !seen["users"] && !seen["contexts"] {
		return nil, notKube("none of kind, apiVersion, clusters, users or contexts is set")
	}
	users, err := namedList(root, "users", notKube)
	if err != nil {
		return nil, err
	}
	var contextNode *yaml.Node
	res := &EditResult{}
	if e.Context != "" {
		contexts, err := namedList(root, "contexts", notKube)
		if err != nil {
			return nil, err
		}
		item, names := findNamed(contexts, e.Context)
		if item == nil {
			known := "it has no contexts"
			if len(names) > 0 {
				known = "known: " + strings.Join(names, ", ")
			}
			return nil, fmt.Errorf("%s has no context %q (%s); create it with: kubectl config set-context %s --cluster=CLUSTER, or leave out --context", path, e.Context, known, e.Context)
		}
		_, contextNode = mapGet(item, "context")
		if contextNode == nil || contextNode.Kind != yaml.MappingNode {
			if contextNode != nil && !isNull(contextNode) {
				return nil, notKube("context %q is not a mapping", e.Context)
			}
			contextNode = &yaml.Node{Kind: yaml.MappingNode}
			mapSet(item, "context", contextNode)
		}
	}

	// Write the user entry.
	item, _ := findNamed(users, e.User)
	if item == nil {
		res.CreatedUser = true
		item = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{str("name"), str(e.User), str("user"), {Kind: yaml.MappingNode}}}
		users.Content = append(users.Content, item)
		users.Style &^= yaml.FlowStyle
	}
	_, user := mapGet(item, "user")
	if user == nil || user.Kind != yaml.MappingNode {
		if user != nil && !isNull(user) {
			return nil, notKube("user %q is not a mapping", e.User)
		}
		user = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(item, "user", user)
	}
	user.Style &^= yaml.FlowStyle
	for _, k := range competingAuth {
		if mapDel(user, k) {
			res.Removed = append(res.Removed, k)
		}
	}
	_, exec := mapGet(user, "exec")
	if exec == nil || exec.Kind != yaml.MappingNode {
		exec = &yaml.Node{Kind: yaml.MappingNode}
		mapSet(user, "exec", exec)
	}
	exec.Style &^= yaml.FlowStyle
	args := &yaml.Node{Kind: yaml.SequenceNode}
	for _, a := range e.Args {
		args.Content = append(args.Content, str(a))
	}
	mode := e.InteractiveMode
	if mode == "" {
		mode = "IfAvailable"
	}
	// kubectl writes exec keys in this (alphabetical) order.
	for _, kv := range []struct {
		k string
		v *yaml.Node
	}{
		{"apiVersion", str(e.APIVersion)},
		{"args", args},
		{"command", str(e.Command)},
		{"installHint", str(installHint)},
		{"interactiveMode", str(mode)},
		{"provideClusterInfo", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(e.ProvideClusterInfo)}},
	} {
		if _, old := mapGet(exec, kv.k); old == nil || !sameValue(old, kv.v) {
			mapSetSorted(exec, kv.k, kv.v)
		}
	}
	if contextNode != nil {
		_, u := mapGet(contextNode, "user")
		if u == nil || u.Value != e.User {
			res.ContextChanged = true
			if u != nil {
				res.PreviousUser = u.Value
			}
			mapSet(contextNode, "user", str(e.User))
			contextNode.Style &^= yaml.FlowStyle
		}
	}

	var out []byte
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' && root.Style&yaml.FlowStyle != 0 {
		// A JSON kubeconfig (kubectl reads JSON too) stays JSON.
		out, err = encodeJSON(root, jsonIndent(data))
	} else {
		indent, compact := detectStyle(root)
		out, err = render(data, doc, indent, compact, empty)
	}
	if err != nil {
		return nil, err
	}
	res.Data = out
	res.Changed = !bytes.Equal(out, data)
	return res, nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && (n.Tag == "!!null" || n.Value == "" || n.Value == "null" || n.Value == "~")
}

// mapGet returns the key and value nodes of k in mapping m.
func mapGet(m *yaml.Node, k string) (key, val *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// mapSet replaces the value of k in place, or appends k.
func mapSet(m *yaml.Node, k string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, str(k), v)
}

// mapSetSorted is mapSet, but a new key goes where it sorts when the keys
// are sorted (kubectl writes them so), else at the end.
func mapSetSorted(m *yaml.Node, k string, v *yaml.Node) {
	keys := make([]string, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content[i+1] = v
			return
		}
		keys = append(keys, m.Content[i].Value)
	}
	at := len(m.Content)
	if slices.IsSorted(keys) {
		i, _ := slices.BinarySearch(keys, k)
		at = 2 * i
	}
	m.Content = slices.Insert(m.Content, at, str(k), v)
}

// mapDel removes k from m and reports whether it was there.
func mapDel(m *yaml.Node, k string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			m.Content = slices.Delete(m.Content, i, i+2)
			return true
		}
	}
	return false
}

// sameValue compares scalars and lists of scalars by value, so that an
// entry already as wanted keeps its exact spelling.
func sameValue(a, b *yaml.Node) bool {
	if a.Kind != b.Kind || len(a.Content) != len(b.Content) {
		return false
	}
	switch a.Kind {
	case yaml.ScalarNode:
		return a.Value == b.Value && a.ShortTag() == b.ShortTag()
	case yaml.SequenceNode:
		for i := range a.Content {
			if !sameValue(a.Content[i], b.Content[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// namedList returns the list under root key k (users, contexts), creating
// an empty one when absent or null, after checking its entries are named
// mappings.
func namedList(root *yaml.Node, k string, notKube func(string, ...any) error) (*yaml.Node, error) {
	_, list := mapGet(root, k)
	if list == nil || isNull(list) {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		mapSet(root, k, list)
		return list, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, notKube("%s is not a list", k)
	}
	for _, it := range list.Content {
		if it.Kind != yaml.MappingNode {
			return nil, notKube("an entry of %s at line %d is not a mapping", k, it.Line)
		}
		if _, n := mapGet(it, "name"); n == nil || n.Kind != yaml.ScalarNode {
			return nil, notKube("an entry of %s at line %d has no name", k, it.Line)
		}
	}
	return list, nil
}

// findNamed returns the entry of list named name, and all names.
func findNamed(list *yaml.Node, name string) (*yaml.Node, []string) {
	var names []string
	for _, it := range list.Content {
		_, n := mapGet(it, "name")
		if n.Value == name {
			return it, nil
		}
		names = append(names, n.Value)
	}
	return nil, names
}

// detectStyle reads the indentation and the list style (kubectl writes
// "- " at its parent key's column) of the file, to write in the same.
func detectStyle(root *yaml.Node) (indent int, compact bool) {
	indent, compact = 2, true
	found := false
	// The users list is where setup writes: its style wins.
	order := make([]int, 0, len(root.Content)/2)
	for i := 1; i < len(root.Content); i += 2 {
		if root.Content[i-1].Value == "users" {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if found {
			break
		}
		v := root.Content[i]
		switch {
		case v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 && v.Line > root.Content[i-1].Line:
			indent = v.Content[0].Column - root.Content[i-1].Column
			found = true
		case v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0:
			it := v.Content[0]
			if it.Kind != yaml.MappingNode || len(it.Content) < 2 || it.Line <= root.Content[i-1].Line {
				continue
			}
			compact = it.Column-2 <= root.Content[i-1].Column
			for j := 1; j < len(it.Content); j += 2 {
				if c := it.Content[j]; c.Kind == yaml.MappingNode && c.Style&yaml.FlowStyle == 0 && len(c.Content) > 0 && c.Line > it.Content[j-1].Line {
					indent = c.Content[0].Column - it.Content[j-1].Column
					found = true
					break
				}
			}
		}
	}
	return min(max(indent, 2), 8), compact
}

func encode(doc *yaml.Node, indent int, compact bool) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(indent)
	if compact {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("could not write the kubeconfig: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("could not write the kubeconfig: %w", err)
	}
	return b.Bytes(), nil
}

// render encodes doc and then puts back the original text of every
// top-level section and list entry whose encoding did not change, so a
// kubeconfig gets back its exact bytes wherever setup did not edit it.
// The result is checked: if it does not parse back to doc, the plain
// encoding is returned.
func render(orig []byte, doc *yaml.Node, indent int, compact, fresh bool) ([]byte, error) {
	newText, err := encode(doc, indent, compact)
	if err != nil {
		return nil, err
	}
	if fresh {
		// Keep the comments of a file that had nothing else.
		if len(bytes.TrimSpace(orig)) > 0 {
			return []byte(strings.Join(splitLines(orig), "") + string(newText)), nil
		}
		return newText, nil
	}
	var origDoc yaml.Node
	if err := yaml.Unmarshal(orig, &origDoc); err != nil || len(origDoc.Content) == 0 {
		return newText, nil
	}
	origEnc, err := encode(&origDoc, indent, compact)
	if err != nil {
		return newText, nil
	}
	var encDoc, newDoc yaml.Node
	if yaml.Unmarshal(origEnc, &encDoc) != nil || yaml.Unmarshal(newText, &newDoc) != nil || len(encDoc.Content) == 0 || len(newDoc.Content) == 0 {
		return newText, nil
	}
	o := side{splitLines(orig), origDoc.Content[0], 0, 0}
	o.end = len(o.lines)
	e := side{splitLines(origEnc), encDoc.Content[0], 0, 0}
	e.end = len(e.lines)
	n := side{splitLines(newText), newDoc.Content[0], 0, 0}
	n.end = len(n.lines)
	out := []byte(strings.Join(splice(o, e, n), ""))

	var check yaml.Node
	if yaml.Unmarshal(out, &check) != nil {
		return newText, nil
	}
	want, err := encode(&newDoc, indent, compact)
	if err != nil {
		return newText, nil
	}
	if again, err := encode(&check, indent, compact); err != nil || !bytes.Equal(again, want) {
		return newText, nil
	}
	return out, nil
}

// side is a node and the lines [start, end) that hold it, in one of the
// three texts render compares: the original file, its plain encoding, and
// the encoding of the edited document.
type side struct {
	lines      []string
	node       *yaml.Node
	start, end int
}

// anchors returns the 0-based first line of each child (mapping key or
// list entry), or nil when the node is not laid out one child after the
// other in block style.
func (s side) anchors() []int {
	n := s.node
	if n.Style&yaml.FlowStyle != 0 || (n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode) {
		return nil
	}
	step := 1
	if n.Kind == yaml.MappingNode {
		step = 2
	}
	var a []int
	for i := 0; i < len(n.Content); i += step {
		l := n.Content[i].Line - 1
		if l < s.start || l >= s.end || (len(a) > 0 && l <= a[len(a)-1]) {
			return nil
		}
		a = append(a, l)
	}
	return a
}

// block returns child i's lines: from its first line to the next child's.
func (s side) block(a []int, i int) side {
	end := s.end
	if i+1 < len(a) {
		end = a[i+1]
	}
	step := 1
	if s.node.Kind == yaml.MappingNode {
		step = 2
	}
	child := s.node.Content[i*step+step-1] // the value, or the entry
	return side{s.lines, child, a[i], end}
}

func (s side) text() string { return strings.Join(s.lines[s.start:s.end], "") }

// splice returns n's lines, taking o's lines for each child whose
// encoding (e, the plain encoding of o) equals n's.
func splice(o, e, n side) []string {
	oa, ea, na := o.anchors(), e.anchors(), n.anchors()
	if len(oa) == 0 || len(oa) != len(ea) || len(na) == 0 || o.node.Kind != n.node.Kind {
		return n.lines[n.start:n.end]
	}
	var out []string
	if strings.Join(e.lines[e.start:ea[0]], "") == strings.Join(n.lines[n.start:na[0]], "") {
		out = append(out, o.lines[o.start:oa[0]]...)
	} else {
		out = append(out, n.lines[n.start:na[0]]...)
	}
	isMap := n.node.Kind == yaml.MappingNode
	used := make([]bool, len(oa))
	for j := range na {
		nb := n.block(na, j)
		match := -1
		for i := range oa {
			if used[i] {
				continue
			}
			if isMap && o.node.Content[2*i].Value == n.node.Content[2*j].Value ||
				!isMap && e.block(ea, i).text() == nb.text() {
				match = i
				break
			}
		}
		if match < 0 {
			out = append(out, nb.lines[nb.start:nb.end]...)
			continue
		}
		used[match] = true
		ob, eb := o.block(oa, match), e.block(ea, match)
		switch {
		case eb.text() == nb.text():
			out = append(out, ob.lines[ob.start:ob.end]...)
		case isMap && ob.node.Kind == yaml.SequenceNode && nb.node.Kind == yaml.SequenceNode:
			out = append(out, splice(ob, eb, nb)...)
		default:
			out = append(out, nb.lines[nb.start:nb.end]...)
		}
	}
	return out
}

// splitLines splits b after each newline; every line ends with one.
func splitLines(b []byte) []string {
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] += "\n"
	}
	return lines
}

// encodeJSON writes n as JSON, keeping key order, indented by indent
// ("" for one line).
func encodeJSON(n *yaml.Node, indent string) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, n); err != nil {
		return nil, fmt.Errorf("could not write the kubeconfig as JSON: %w", err)
	}
	if indent == "" {
		return append(b.Bytes(), '\n'), nil
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", indent); err != nil {
		return nil, fmt.Errorf("could not write the kubeconfig as JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(n.Content[i].Value)
			b.Write(k)
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(j)
	default:
		return fmt.Errorf("unexpected YAML node kind %v", n.Kind)
	}
	return nil
}

// jsonIndent returns the indentation of the first indented line of a
// JSON document, or "" when it is on one line.
func jsonIndent(data []byte) string {
	for _, l := range splitLines(data)[1:] {
		if t := strings.TrimLeft(l, " \t"); len(t) < len(l) && strings.TrimSpace(t) != "" {
			return l[:len(l)-len(t)]
		}
	}
	return ""
}
