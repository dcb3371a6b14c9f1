export * from "./core";
export * from "./authn-config";
export * from "./sso-terms";
export * from "./app-state";
export * from "./licenses";
export * from "./identity-provider";
export * from "./external-idp";
export * from "./journeys";
