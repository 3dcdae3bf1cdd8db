package gateway

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed openapi.json
var openapiDoc []byte

//go:embed index.html
var indexPage []byte

func (s *Server) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openapiDoc)
}

// index serves the live view of the ledger: the feed of committed transactions.
func (s *Server) index(c echo.Context) error {
	return c.HTMLBlob(http.StatusOK, indexPage)
}
