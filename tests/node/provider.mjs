// The OpenID Connect provider the sign-in tests start: npm's oidc-provider, configured from a JSON
// file the test writes (clients, users and their claims, the signing key).
//
//   node tests/node/provider.mjs CONFIG.json PORT
//
// The issuer is http://127.0.0.1:PORT. Sign-in is oidc-provider's development interaction (a login
// form: any password, the login name is the user's id); consent is given at once for known clients,
// as a municipality's own identity provider does for its own applications. Prints "listening" when
// it accepts connections.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const [configPath, port] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configPath, "utf8"));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: config.jwks,
  cookies: { keys: ["bip-test-provider-cookie-key"] },
  scopes: ["openid", "profile", "bip"],
  claims: { openid: ["sub"], profile: ["name", "preferred_username"], bip: ["roles", "team"] },
  conformIdTokenClaims: false, // the bip claims in the ID token too, as Keycloak and Entra ID put them
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: { IdToken: config.idTokenSeconds || 3600 },
  async findAccount(ctx, id) {
    const user = config.users[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
  async loadExistingGrant(ctx) {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope || "openid");
    await grant.save();
    return grant;
  },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => console.log("listening"));
