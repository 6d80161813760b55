// Package codecheck holds tests over trnn's own source tree: rules of the
// codebase that a reviewer would otherwise have to check by eye.
package codecheck
