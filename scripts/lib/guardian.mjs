// Guardian of a local Worker: `node guardian.mjs <group pid> <owner pid> [<owner pid> ...]`.
//
// wrangler dev runs in a process group of its own (so that stopping it also stops workerd),
// which means a terminal's Ctrl-C and the death of whoever started it do not reach it. Signal
// handlers cover an orderly stop, but not an owner that is killed outright (SIGKILL, or `npm`
// ended with SIGTERM: npm does not pass the signal on to `npm run dev`'s script). This small
// process, detached from both, ends the group as soon as any owner is gone, and exits by
// itself once the group is gone.
const [group, ...owners] = process.argv.slice(2).map(Number);
if (!Number.isInteger(group) || group <= 1 || owners.length === 0 || owners.some((p) => !Number.isInteger(p) || p <= 1)) {
  console.error("usage: node guardian.mjs <group pid> <owner pid> [<owner pid> ...]");
  process.exit(2);
}

/** Whether a process (or, for a negative pid, a process group) still exists. */
function exists(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else; only ESRCH means gone.
    return e && e.code === "EPERM";
  }
}

function signal(sig) {
  try {
    process.kill(-group, sig);
  } catch {}
}

const timer = setInterval(() => {
  if (!exists(-group)) process.exit(0);
  if (owners.every(exists)) return;
  clearInterval(timer);
  signal("SIGTERM");
  // wrangler stops workerd on SIGTERM; anything still there after 5 s is killed.
  const deadline = Date.now() + 5000;
  const wait = setInterval(() => {
    if (!exists(-group)) process.exit(0);
    if (Date.now() > deadline) {
      signal("SIGKILL");
      process.exit(0);
    }
  }, 100);
  wait.unref?.();
}, 250);
