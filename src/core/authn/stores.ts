import type { AuthSchemeStore, IdpConfigStore, SpCatalogStore } from "../../storage/ports-authn";

/** The configuration stores the Authn login and utility endpoints use beside Services. */
export interface AuthnConfigStores {
  schemes: AuthSchemeStore;
  spCatalog: SpCatalogStore;
  idpConfigs: IdpConfigStore;
}
