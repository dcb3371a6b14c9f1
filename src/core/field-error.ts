import { AuthError, type AuthErrorCode } from "./errors";

/**
 * An AuthError about one named input field (a password confirmation that does not match, a
 * state object that is too large), so a surface whose API reports errors per field can say
 * which one. Surfaces that do not care treat it as the plain AuthError it is.
 */
export class FieldError extends AuthError {
  readonly field: string;

  constructor(code: AuthErrorCode, field: string, message: string) {
    super(code, message);
    this.name = "FieldError";
    this.field = field;
  }
}
