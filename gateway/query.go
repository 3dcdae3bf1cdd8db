package gateway

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/regledger/regledger/keys"
	"github.com/regledger/regledger/ledger"
)

func (s *Server) getBlock(c echo.Context) error {
	h, err := strconv.ParseInt(c.Param("height"), 10, 64)
	if err != nil || h < 1 {
		return badRequest("height must be a positive integer", err)
	}
	b, err := s.node.Block(c.Request().Context(), h)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, b)
}

func (s *Server) listCompanies(c echo.Context) error {
	cos, err := ledger.ListCompanies(s.node.History())
	if err != nil {
		return err
	}
	if cos == nil {
		cos = []*ledger.Company{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"height": s.node.Height(), "companies": cos})
}

func usccParam(c echo.Context) (string, error) {
	u := c.Param("uscc")
	if err := ledger.ValidateUSCC(u); err != nil {
		return "", badRequest("not a valid unified social credit code", err)
	}
	return u, nil
}

func (s *Server) getCompany(c echo.Context) error {
	u, err := usccParam(c)
	if err != nil {
		return err
	}
	co, err := ledger.ReadCompany(s.node.History(), u)
	if err != nil {
		return err
	}
	fs, err := ledger.ActiveFreezes(s.node.History(), u)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []*ledger.FreezeOrder{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"company": co, "freezes": fs, "single_shareholder": co.Holders == 1})
}

// reader returns the state at ?height=N (the latest when absent).
func (s *Server) reader(c echo.Context) (ledger.Reader, int64, error) {
	hs := c.QueryParam("height")
	if hs == "" {
		return s.node.History(), s.node.Height(), nil
	}
	h, err := strconv.ParseInt(hs, 10, 64)
	if err != nil || h < 1 {
		return nil, 0, badRequest("height must be a positive integer", err)
	}
	if h > s.node.Height() {
		return nil, 0, notFound("height " + hs + " is not committed yet")
	}
	r, err := s.node.History().At(h)
	if err != nil {
		return nil, 0, err
	}
	return r, h, nil
}

func (s *Server) getRegister(c echo.Context) error {
	u, err := usccParam(c)
	if err != nil {
		return err
	}
	r, h, err := s.reader(c)
	if err != nil {
		return err
	}
	reg, err := ledger.ReadRegister(r, u)
	if err != nil {
		return err
	}
	if reg == nil {
		reg = []*ledger.Holding{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"uscc": u, "height": h, "holders": reg})
}

func (s *Server) getNotices(c echo.Context) error {
	u, err := usccParam(c)
	if err != nil {
		return err
	}
	if _, err := ledger.ReadCompany(s.node.History(), u); err != nil {
		return err
	}
	ns, err := ledger.ListNotices(s.node.History(), u)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []*ledger.Notice{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"uscc": u, "notices": ns})
}

func (s *Server) getIdentity(c echo.Context) error {
	a, err := keys.ParseAddress(c.Param("address"))
	if err != nil {
		return badRequest("not a valid address", err)
	}
	r := s.node.History()
	if role := ledger.RoleOf(r, a); role != 0 {
		return writeJSON(c, http.StatusOK, map[string]any{"address": a, "role": role.String()})
	}
	id, err := ledger.ReadIdentity(r, a)
	if err != nil {
		return err
	}
	cos, err := ledger.HoldingsOf(r, a)
	if err != nil {
		return err
	}
	if cos == nil {
		cos = []string{}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"identity": id, "companies": cos})
}

func (s *Server) getNotice(c echo.Context) error {
	id, err := ledger.ParseHash(c.Param("id"))
	if err != nil {
		return badRequest("a notice id is 64 hex digits", err)
	}
	st := s.node.History()
	n, err := ledger.ReadNotice(st, id)
	if err != nil {
		return err
	}
	alloc, err := ledger.NoticeAllocation(st, n)
	if err != nil {
		return err
	}
	if alloc == nil {
		alloc = []ledger.Allocation{}
	}
	return writeJSON(c, http.StatusOK, struct {
		*ledger.Notice
		Allocation []ledger.Allocation `json:"allocation"`
	}{n, alloc})
}
