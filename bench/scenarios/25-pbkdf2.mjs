/**
 * One bare PBKDF2 derivation (dev-only POST /dev/pbkdf2: exactly the hashPassword the login
 * path runs, nothing else): the yardstick the login is measured against.
 */
export default {
  name: "pbkdf2",
  label: "one PBKDF2 derivation (dev route)",
  async prepare() {
    return { request: { method: "POST", path: "/dev/pbkdf2" } };
  },
};
