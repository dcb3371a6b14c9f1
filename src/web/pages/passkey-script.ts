/**
 * The hosted login's one passkey script (docs/api/oidc.md "Hosted login: passkeys"), the same
 * constant text on every page that carries it, allowed by the response's CSP nonce
 * (render.tsx `pageCsp`). It reads everything it needs from the page's forms (the transaction
 * id, its CSRF token, the routes in data-options), so nothing from the request is ever written
 * into script. Without script, or without WebAuthn, the pages work as before: the passkey
 * buttons stay hidden and the password form and "Not now" are plain forms.
 *
 * Sign-in (#passkey-form): the options come from POST data-options (the transaction's token and
 * cookie); with conditional mediation (WebAuthn L3 §5.1.4.1 "mediation: conditional") the
 * browser offers passkeys in the username field (autocomplete="username webauthn"), and the
 * "Sign in with a passkey" button asks modally. After a refused passkey the page says so and
 * does not start the conditional request again (data-conditional="off"): an authenticator that
 * answers without asking would otherwise be refused over and over; the button still works. The assertion goes back as JSON (the
 * AuthenticationResponseJSON of §5.1.9) in a normal form POST, so the answer is a page or a
 * redirect like the password form's.
 *
 * One request at a time: the button aborts the conditional request and waits until it has
 * settled before it asks for options and calls get() again. The conditional request starts
 * only while nothing else has: the browser answers isConditionalMediationAvailable() later,
 * and a user who pressed the button before that must keep the modal request (starting the
 * conditional one would abort it, and with several passkeys a conditional request waits for a
 * choice in the username field that this user is not making). The transaction keeps one
 * challenge, the latest asked for, so overlapping options requests could keep the aborted
 * request's challenge, and a browser may refuse a second get() while one is still pending.
 *
 * Registration (#passkey-register-form): "Create a passkey" fetches creation options, calls
 * navigator.credentials.create() and posts the RegistrationResponseJSON (§5.1.8) the same way.
 */
export const PASSKEY_SCRIPT = `(function(){"use strict";
if(!window.PublicKeyCredential||!navigator.credentials)return;
function buf(s){s=s.replace(/-/g,"+").replace(/_/g,"/");while(s.length%4)s+="=";var b=atob(s),u=new Uint8Array(b.length);for(var i=0;i<b.length;i++)u[i]=b.charCodeAt(i);return u.buffer;}
function b64u(a){var u=new Uint8Array(a),s="";for(var i=0;i<u.length;i++)s+=String.fromCharCode(u[i]);return btoa(s).replace(/\\+/g,"-").replace(/\\//g,"_").replace(/=+$/,"");}
function ids(l){return(l||[]).map(function(c){var d={type:"public-key",id:buf(c.id)};if(c.transports)d.transports=c.transports;return d;});}
function options(f){return fetch(f.getAttribute("data-options"),{method:"POST",credentials:"same-origin",headers:{"content-type":"application/x-www-form-urlencoded"},body:new URLSearchParams({tx:f.elements.namedItem("tx").value,csrf:f.elements.namedItem("csrf").value})}).then(function(r){if(!r.ok)throw new Error("options "+r.status);return r.json();});}
function fail(f,m){var p=f.querySelector(".passkey-status");if(p){p.textContent=m;p.hidden=false;}}
var sf=document.getElementById("passkey-form");
if(sf){var sb=document.getElementById("passkey-button"),ctl=null,prev=Promise.resolve();
function signIn(mediation){if(ctl)ctl.abort();var c=new AbortController();ctl=c;
var run=prev.catch(function(){}).then(function(){if(c.signal.aborted)throw new DOMException("aborted","AbortError");return options(sf);}).then(function(o){var pk={challenge:buf(o.challenge),allowCredentials:ids(o.allowCredentials),userVerification:o.userVerification};if(o.rpId)pk.rpId=o.rpId;if(o.timeout)pk.timeout=o.timeout;var q={publicKey:pk,signal:c.signal};if(mediation)q.mediation=mediation;return navigator.credentials.get(q);}).then(function(k){if(!k)return;var r=k.response,j={id:k.id,rawId:b64u(k.rawId),type:k.type,clientExtensionResults:k.getClientExtensionResults(),response:{clientDataJSON:b64u(r.clientDataJSON),authenticatorData:b64u(r.authenticatorData),signature:b64u(r.signature)}};if(r.userHandle)j.response.userHandle=b64u(r.userHandle);if(k.authenticatorAttachment)j.authenticatorAttachment=k.authenticatorAttachment;sf.elements.namedItem("assertion").value=JSON.stringify(j);sf.submit();});prev=run;return run;}
sb.hidden=false;sb.addEventListener("click",function(){signIn(null).catch(function(e){if(!e||e.name!=="AbortError")fail(sf,"The passkey could not be used. Try again or sign in with your password.");});});
if(sf.getAttribute("data-conditional")!=="off"&&PublicKeyCredential.isConditionalMediationAvailable)PublicKeyCredential.isConditionalMediationAvailable().then(function(ok){if(ok&&!ctl)signIn("conditional").catch(function(){});});}
var rf=document.getElementById("passkey-register-form");
if(rf){var rb=document.getElementById("passkey-create");rb.hidden=false;rb.addEventListener("click",function(){rb.disabled=true;
options(rf).then(function(o){var pk={challenge:buf(o.challenge),rp:o.rp,user:{id:buf(o.user.id),name:o.user.name,displayName:o.user.displayName},pubKeyCredParams:o.pubKeyCredParams,excludeCredentials:ids(o.excludeCredentials),authenticatorSelection:o.authenticatorSelection,attestation:o.attestation||"none"};if(o.timeout)pk.timeout=o.timeout;return navigator.credentials.create({publicKey:pk});}).then(function(k){var r=k.response,j={id:k.id,rawId:b64u(k.rawId),type:k.type,clientExtensionResults:k.getClientExtensionResults(),response:{clientDataJSON:b64u(r.clientDataJSON),attestationObject:b64u(r.attestationObject),transports:r.getTransports?r.getTransports():[]}};if(k.authenticatorAttachment)j.authenticatorAttachment=k.authenticatorAttachment;rf.elements.namedItem("credential").value=JSON.stringify(j);rf.submit();}).catch(function(){rb.disabled=false;fail(rf,"The passkey could not be created. Try again, or choose Not now.");});});}
})();`;
