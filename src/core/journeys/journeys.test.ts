/**
 * The adaptive policy's tests (issue 10), run from this one file because every test file of
 * the Workers pool starts its own runtime (seconds of CPU each; CI time is the constraint):
 * validate.spec.ts (write-time rules, IP grammar), evaluate.spec.ts (operators, precedence,
 * fallback, facts, factors), store.spec.ts (CRUD on real D1, the cache, idps),
 * property.spec.ts (fast-check: total, deterministic, equal to a naive reading).
 */
import "./validate.spec";
import "./evaluate.spec";
import "./store.spec";
import "./property.spec";
