/** Who the agent speaks for, and what of it may leave the call (001's `persona` and `share_policy`). */
export interface Persona {
  name?: string;
  phone?: string;
  personal_security_number?: string;
  address?: string;
  role?: string;
}

export interface SharePolicy {
  name_voice: boolean;
  phone_voice: boolean;
  phone_dtmf: boolean;
  pnr_voice: boolean;
  pnr_dtmf: boolean;
}
