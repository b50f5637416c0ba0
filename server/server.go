// Package server is `kuvert server`: one organisation's central
// compliance log, SMS relay, tokens and registrar's page, on PostgreSQL.
//
// The server is stateless: every process on one database serves the same
// log. The tree is appended inside the database under the tree_head row's
// lock, so processes behind a load balancer keep one consistent tree;
// tokens are checked against the database on every request, so a revoked
// token is refused at once everywhere.
//
// The server never stores or logs a password (SMS texts pass through
// memory to the provider), never a token (only its SHA-256), never a full
// phone number (the log holds masked ones), and builds SQL only with
// parameters.
package server

import _ "time/tzdata" // Europe/Stockholm for the registrar's days, on any host
