package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ffsim/ffsim/sim"
)

// seedFlag is a run's identity as one token: a seed, optionally with the
// host it ran on, "4001" or "wasm:4001". A failure prints it that way, and
// every command that takes --seed accepts it, so a seed found by explore
// (wasm) cannot be replayed on the native host by mistake.
type seedFlag struct {
	seed uint64
	host string // "" when the token names none
	set  bool
}

func (s *seedFlag) String() string {
	if !s.set {
		return ""
	}
	if s.host != "" {
		return s.host + ":" + strconv.FormatUint(s.seed, 10)
	}
	return strconv.FormatUint(s.seed, 10)
}

func (s *seedFlag) Set(v string) error {
	host, num, ok := strings.Cut(v, ":")
	if !ok {
		host, num = "", v
	}
	if ok && host != sim.HostNative && host != sim.HostWasm {
		return fmt.Errorf("unknown host %q in seed %q: want N, native:N or wasm:N", host, v)
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return fmt.Errorf("seed %q: want a number from 0 to %d, optionally as native:N or wasm:N", v, uint64(1<<64-1))
	}
	s.seed, s.host, s.set = n, host, true
	return nil
}

func (s *seedFlag) Type() string { return "[host:]seed" }

// resolveHost picks the host from --host and a seed token: the token's host
// when --host is not given, an error when they disagree.
func resolveHost(flagHost string, hostChanged bool, s *seedFlag) (string, error) {
	switch {
	case s.host == "":
		return flagHost, nil
	case !hostChanged || flagHost == s.host:
		return s.host, nil
	}
	return "", invalid("--seed %s names the %s host but --host is %s", s, s.host, flagHost)
}
