/**
 * Where a Durable Object should be created, from where the request that first needs it
 * entered Cloudflare.
 *
 * A location hint only applies when the object is created; an object never moves afterwards,
 * and a hint to an existing object is ignored (https://developers.cloudflare.com/durable-objects/reference/data-location/
 * "Provide a location hint"). So passing the hint of whichever request first touches an object
 * costs nothing later and pins the object near its natural caller: a rate-limit counter near
 * the IP or user it counts, a subject's TokenAuthority near where the subject signs in.
 *
 * The input is `request.cf` as Cloudflare sets it for the connecting client (never a client
 * header, which anyone can write); the Worker runs in a data center near that client, and that
 * data center is what calls the object. Absent or unrecognised (local dev, tests, the queue
 * consumer, cron, Tor's "T1"): undefined, so the default placement (near the first caller)
 * applies, as it did before.
 */

/** The `request.cf` fields this reads (all optional; Cloudflare omits what it does not know). */
export interface RequestGeo {
  continent?: string;
  country?: string;
  longitude?: string;
  timezone?: string;
}

/**
 * Countries of MaxMind's "EU" continent that are east of the line Cloudflare's two European
 * regions split along (roughly the old Iron Curtain, plus Finland, the Baltics and the
 * Balkans): eeur; the rest of Europe: weur.
 */
const EASTERN_EUROPE = new Set([
  "AL", "BA", "BG", "BY", "CY", "CZ", "EE", "FI", "GR", "HR", "HU", "LT", "LV", "MD", "ME", "MK",
  "PL", "RO", "RS", "RU", "SI", "SK", "UA", "XK", "TR",
]);

/** Asian countries served from the Middle East region rather than Asia-Pacific. */
const MIDDLE_EAST = new Set(["AE", "BH", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "YE"]);

/** Western North America begins west of this meridian (between Denver, -105, and Dallas, -97). */
const WEST_OF_LONGITUDE = -100;

/** North American time zones west of that line, for when `longitude` is absent. */
const WESTERN_ZONES = /^America\/(Los_Angeles|Vancouver|Tijuana|Denver|Phoenix|Boise|Edmonton|Anchorage|Juneau|Sitka|Nome|Metlakatla|Yakutat|Whitehorse|Dawson|Dawson_Creek|Fort_Nelson|Creston|Hermosillo|Mazatlan|Chihuahua|Ciudad_Juarez|Inuvik|Cambridge_Bay|Yellowknife)$|^Pacific\/Honolulu$/;

function northAmerica(geo: RequestGeo): DurableObjectLocationHint {
  const lon = geo.longitude === undefined ? NaN : Number(geo.longitude);
  if (Number.isFinite(lon)) return lon < WEST_OF_LONGITUDE ? "wnam" : "enam";
  if (geo.timezone !== undefined) return WESTERN_ZONES.test(geo.timezone) ? "wnam" : "enam";
  return "enam";
}

/**
 * The location hint for a request's geography, or undefined when it is not known.
 * `cf` is typed unknown on purpose: it is whatever the platform attached (or nothing), and
 * every field is checked before it is used.
 */
export function locationHintFor(cf: unknown): DurableObjectLocationHint | undefined {
  if (typeof cf !== "object" || cf === null) return undefined;
  const raw = cf as Record<string, unknown>;
  const str = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : undefined);
  const geo: RequestGeo = { continent: str("continent"), country: str("country")?.toUpperCase(), longitude: str("longitude"), timezone: str("timezone") };
  switch (geo.continent) {
    case "NA":
      return northAmerica(geo);
    case "SA":
      return "sam";
    case "EU":
      return geo.country !== undefined && EASTERN_EUROPE.has(geo.country) ? "eeur" : "weur";
    case "AS":
      if (geo.country !== undefined && MIDDLE_EAST.has(geo.country)) return "me";
      if (geo.country === "TR") return "eeur";
      return "apac";
    case "OC":
      return "oc";
    case "AF":
      return "afr";
    default:
      // "AN" (Antarctica), "T1" (Tor) country with no continent, local dev: no opinion.
      return undefined;
  }
}

/**
 * The named object's stub, asking for `near` when it is known. A hint only matters when this
 * call creates the object (it never moves an existing one), so passing it is always safe; one
 * object per name still decides. Used by every Durable Object handle of the core.
 */
export function stubNear<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>, name: string, near?: DurableObjectLocationHint): DurableObjectStub<T> {
  const id = ns.idFromName(name);
  return near ? ns.get(id, { locationHint: near }) : ns.get(id);
}
