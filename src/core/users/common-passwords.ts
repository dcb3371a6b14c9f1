/**
 * A small built-in blocklist of the most common passwords of at least eight characters (from
 * public breach-frequency lists). Tenants add their own words in settings.password.blocklist.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssw0rd", "p@ssword",
  "12345678", "123456789", "1234567890", "12345678910", "87654321", "11111111", "00000000", "88888888",
  "qwertyuiop", "qwerty123", "qwerty12", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx", "zaq12wsx", "qazwsxedc",
  "iloveyou", "iloveyou1", "sunshine", "princess", "football", "baseball", "basketball", "superman",
  "trustno1", "welcome1", "welcome123", "letmein1", "letmein123", "abc12345", "abcd1234", "abcdefgh",
  "starwars", "whatever", "dragon123", "monkey123", "shadow123", "master123", "michael1", "jennifer",
  "computer", "internet", "changeme", "changeme123", "administrator", "admin123", "admin1234", "adminadmin",
  "secret123", "default1", "welcome", "passpass", "asdfghjkl", "asdf1234", "zxcvbnm1", "q1w2e3r4",
  "123123123", "123qweasd", "qweasdzxc", "1234qwer", "a1b2c3d4", "liverpool", "chelsea1", "arsenal1",
  "charlie1", "jordan23", "samsung1", "michelle", "danielle", "pokemon1", "mustang1", "access14",
]);
