package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/ledger/node"
)

// feedFilter selects transactions of the feed.
type feedFilter struct {
	company, address, typ string
}

func (f feedFilter) match(c node.Committed) bool {
	if f.typ != "" && c.Type != f.typ {
		return false
	}
	if f.company == "" && f.address == "" {
		return true
	}
	for _, e := range c.Events {
		for _, a := range e.Attributes {
			if (f.company != "" && a.Key == "company" && a.Value == f.company) || (f.address != "" && a.Value == f.address) {
				return true
			}
		}
	}
	return false
}

// before reports whether position (h, i) is at or before the cursor (ch, ci).
func before(h int64, i int, ch int64, ci int) bool { return h < ch || (h == ch && i <= ci) }

const (
	feedPage      = 500
	feedKeepalive = 15 * time.Second
	feedBuffer    = 8192
)

// feed streams committed transactions as Server-Sent Events ("event: tx", id "height-index",
// data the transaction and its events as JSON), in chain order. A client resumes after the
// transaction in Last-Event-ID (or ?since=height-index; ?since=0 replays from the first block);
// without either it receives what commits from now on. ?company=, ?address= and ?type= filter.
func (s *Server) feed(c echo.Context) error {
	cursor := c.Request().Header.Get("Last-Event-ID")
	if cursor == "" {
		cursor = c.QueryParam("since")
	}
	resume := cursor != ""
	if cursor == "0" {
		cursor = ""
	}
	lastH, lastI, err := node.ParseCursor(cursor)
	if err != nil {
		return badRequest("Last-Event-ID / since must be height-index", err)
	}
	f := feedFilter{company: c.QueryParam("company"), address: c.QueryParam("address"), typ: c.QueryParam("type")}
	ctx := c.Request().Context()
	sub, cancel := s.node.Subscribe(feedBuffer)
	defer cancel()

	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.Flush()

	send := func(x node.Committed) error {
		lastH, lastI = x.Height, x.Index
		if !f.match(x) {
			return nil
		}
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %s\nevent: tx\ndata: %s\n\n", x.Cursor(), b); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	if resume {
		for {
			from := ""
			if lastH > 0 {
				from = fmt.Sprintf("%d-%d", lastH, lastI)
			}
			page, err := s.node.Since(ctx, from, feedPage)
			if err != nil {
				return nil // the stream has started: end it; the client resumes
			}
			for _, x := range page {
				if err := send(x); err != nil {
					return nil
				}
			}
			if len(page) < feedPage {
				break
			}
		}
	}
	tick := time.NewTicker(feedKeepalive)
	defer tick.Stop()
	for {
		select {
		case x, ok := <-sub:
			if !ok {
				return nil // fell behind or the node stopped: the client resumes from its last id
			}
			if resume && before(x.Height, x.Index, lastH, lastI) {
				continue
			}
			if err := send(x); err != nil {
				return nil
			}
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return nil
			}
			w.Flush()
		case <-ctx.Done():
			return nil
		}
	}
}
