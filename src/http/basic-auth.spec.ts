import { describe, expect, it } from "vitest";
import { AuthError } from "../core/errors";
import { parseBasicAuth } from "./basic-auth";

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));

describe("parseBasicAuth (RFC 7617, RFC 6749 §2.3.1)", () => {
  it("returns null without a header or for another scheme", () => {
    expect(parseBasicAuth(undefined)).toBeNull();
    expect(parseBasicAuth("")).toBeNull();
    expect(parseBasicAuth("Bearer abc")).toBeNull();
    expect(parseBasicAuth("Basically abc")).toBeNull();
  });

  it("decodes id and secret, splitting at the first colon, case-insensitive scheme", () => {
    expect(parseBasicAuth(`Basic ${b64("client:sec:ret")}`)).toEqual({ id: "client", secret: "sec:ret" });
    expect(parseBasicAuth(`basic ${b64("client:secret")}`)).toEqual({ id: "client", secret: "secret" });
    expect(parseBasicAuth(`BASIC   ${b64("client:secret")}  `)).toEqual({ id: "client", secret: "secret" });
  });

  it("form-decodes both parts, and can leave them raw", () => {
    expect(parseBasicAuth(`Basic ${b64("my%3Aclient:p%2Bw+d%25")}`)).toEqual({ id: "my:client", secret: "p+w d%" });
    expect(parseBasicAuth(`Basic ${b64("user:p+w%")}`, { formEncoded: false })).toEqual({ id: "user", secret: "p+w%" });
    expect(parseBasicAuth(`Basic ${b64("ü:ß")}`)).toEqual({ id: "ü", secret: "ß" });
  });

  it("throws invalid_client for malformed Basic credentials", () => {
    const bad = [
      "Basic",
      "Basic ",
      "Basic !!!",
      "Basic abcde",
      `Basic ${b64("a:b")} extra`,
      `Basic ${b64("nocolon")}`,
      `Basic ${b64(":")}`,
      `Basic ${b64("id:")}`,
      `Basic ${b64(":secret")}`,
      `Basic ${btoa("\xff:\xfe")}`,
      `Basic ${b64("id%:secret")}`,
      `Basic ${"A".repeat(5000)}`,
    ];
    for (const h of bad) {
      let err: unknown = null;
      try {
        parseBasicAuth(h);
      } catch (e) {
        err = e;
      }
      expect(err, h).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe("invalid_client");
    }
  });
});
