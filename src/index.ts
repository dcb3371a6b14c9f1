import { app } from "./app";

export { TokenAuthority } from "./durable/token-authority";
export { RateLimiter } from "./durable/rate-limiter";
export { ReplayGuard } from "./durable/replay-guard";

export default app;
