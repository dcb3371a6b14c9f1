import { describe } from "vitest";
import { uwlSpecs } from "./step-up-factors-uwl.spec";
import { policyOnStepUpSpecs, typingAndLiveidSpecs } from "./step-up-factors-typing-liveid.spec";

/**
 * UWL, typing pattern and LiveID (issue 11; seed 004 authenticate_with_uwl,
 * authenticate_with_behavior_auth, authenticate_with_liveid): one test file (one workerd
 * runtime) running the spec modules beside it.
 */
describe("UWL", uwlSpecs);
describe("typing pattern and LiveID", typingAndLiveidSpecs);
describe("policy on step-up factor logins", policyOnStepUpSpecs);
