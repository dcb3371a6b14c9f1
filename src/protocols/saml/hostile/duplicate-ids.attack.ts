import { describe, it } from "vitest";
import { NS } from "../xml";
import { assertionOf, expectAccepted, expectRefused, goodResponse, mutate } from "./fixtures";

/**
 * Duplicate IDs — the mechanism under most signature wrapping (Somorovsky et al. 2012, §4;
 * also CVE-2017-11427-era ruby-saml and CVE-2020-5390 pysaml2, which resolved a Reference to
 * another element with the same ID). When two elements share the ID a Reference names, which
 * one it resolves to is up to the library; the element read may not be the one digested.
 * Closed by: xmldsig.verifyElement requires the signed ID to occur exactly once in the document
 * (ID, Id or AssertionID attributes, any element).
 */
describe("duplicate IDs", () => {
  it("another element carrying the signed Assertion's ID is refused", async () => {
    const xml = await goodResponse();
    await expectAccepted(xml);
    const attack = mutate(xml, (d) => {
      const ext = d.createElementNS(NS.samlp, "samlp:Extensions");
      const decoy = d.createElementNS("urn:evil", "e:Decoy");
      decoy.setAttribute("ID", "_assert1");
      ext.appendChild(decoy);
      d.documentElement.insertBefore(ext, d.documentElement.firstChild!.nextSibling);
    });
    await expectRefused(attack, /occurs more than once/);
  });

  it("the Response sharing the Assertion's ID is refused", async () => {
    const xml = await goodResponse();
    await expectRefused(mutate(xml, (d) => d.documentElement.setAttribute("ID", "_assert1")), /occurs more than once/);
  });

  it("the ID under another attribute name (Id, AssertionID) counts too", async () => {
    const xml = await goodResponse();
    for (const name of ["Id", "AssertionID"]) {
      const attack = mutate(xml, (d) => assertionOf(d).getElementsByTagNameNS(NS.saml, "Subject")[0]!.setAttribute(name, "_assert1"));
      await expectRefused(attack, /occurs more than once/);
    }
  });
});
