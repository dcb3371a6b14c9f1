/**
 * The adaptive policy (issue 10): journeys (CRUD), their validation, the compiled evaluator,
 * the per-isolate cache and the document's facts. Surfaces import from here.
 */
export * from "./model";
export { checkJourney, FIELD_KIND, MAX_NAME, MAX_STRING, MAX_VALUES, MAX_METHODS, MAX_PRIORITY, type JourneyInput } from "./validate";
export { parseAddress, parseIpValue, intervalSets, inIntervals, type Address, type Interval, type IntervalSet, type Family } from "./ip";
export { FACTORS, isFactor, splitMethod, factorsFromAmr, amrOfFactor, type Factor } from "./factors";
export { factsFromDocument } from "./facts";
export { compilePolicy, decide, schemesOf, DEFAULT_SCHEME, type CompiledPolicy, type PolicyQuery } from "./compile";
export { invalidatePolicy, setPolicyCacheTtlForTests, POLICY_CACHE_MS } from "./cache";
export { evaluatePolicy, authSchemes, compiledPolicy } from "./policy";
export { createJourney, replaceJourney, deleteJourney, fetchJourneys, MAX_JOURNEYS, type JourneyFilter } from "./journeys";
