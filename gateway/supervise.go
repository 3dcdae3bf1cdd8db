package gateway

// superviseRoutes registers the regulator's API (/api/v1/supervise).
func (s *Server) superviseRoutes() {}
