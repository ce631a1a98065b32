// DTMF and caller-ID detection; see docs/signals.md.
