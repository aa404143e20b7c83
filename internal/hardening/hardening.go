// Package hardening holds the process-level protections of the lanyard
// processes that keep secrets in memory: lanyard-engine (and so the agent,
// which runs inside it) and lanyard-plugin-host.
package hardening
