package gateway

// consolePolicy is who may open each page of the web console, by method and route pattern; the
// API's own routes are in policy.
var consolePolicy = map[string]rule{
	"GET /": open,
}

// consoleRoutes registers the web console's pages.
func (s *Server) consoleRoutes() {
	s.e.GET("/", s.index)
}
