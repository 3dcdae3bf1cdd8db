package node

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cmtLogger adapts an slog.Logger to CometBFT's logger interface, at a minimum level.
type cmtLogger struct {
	l   *slog.Logger
	min slog.Level
}

func newCmtLogger(l *slog.Logger, level string) cmtlog.Logger {
	min := slog.LevelError
	switch level {
	case "info":
		min = slog.LevelInfo
	case "debug":
		min = slog.LevelDebug
	}
	return cmtLogger{l: l.With("module", "cometbft"), min: min}
}

func (c cmtLogger) log(level slog.Level, msg string, kv []any) {
	if level >= c.min {
		c.l.Log(context.Background(), level, msg, kv...)
	}
}

func (c cmtLogger) Debug(msg string, kv ...any) { c.log(slog.LevelDebug, msg, kv) }
func (c cmtLogger) Info(msg string, kv ...any)  { c.log(slog.LevelInfo, msg, kv) }

// Error logs at error level, except the messages CometBFT emits on every clean shutdown.
func (c cmtLogger) Error(msg string, kv ...any) {
	if shutdownNoise[msg] {
		c.log(slog.LevelDebug, msg, kv)
		return
	}
	c.log(slog.LevelError, msg, kv)
}

// shutdownNoise are CometBFT error messages that only say a listener closed during Stop.
var shutdownNoise = map[string]bool{
	"Stopped accept routine, as transport is closed": true,
	"Error serving server":                           true,
}

func (c cmtLogger) With(kv ...any) cmtlog.Logger {
	return cmtLogger{l: c.l.With(kv...), min: c.min}
}
