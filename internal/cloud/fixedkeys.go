package cloud

import "context"

// SetUserKeys gives a user the key pair given instead of generated ones
// (CloudStack only generates keys; stratus's seed file sets them so CI can
// hard-code them). Root admin only. A key another user holds is refused;
// setting a user's own keys again changes nothing.
func (s *Sim) SetUserKeys(ctx context.Context, c Caller, userID, apiKey, secretKey string) (*User, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("Account %s is not a root admin", c.Account.Name)
	}
	if len(apiKey) < 8 || len(secretKey) < 8 {
		return nil, Invalid("apiKey and secretKey must be at least 8 characters")
	}
	var out *User
	err := s.write(func(ix *index) error {
		u, err := ix.userFor(c, userID)
		if err != nil {
			return err
		}
		if other, ok := ix.apiKeys[apiKey]; ok && other != u.ID {
			return Invalid("the API key is already in use by another user")
		}
		if u.APIKey == apiKey && u.SecretKey == secretKey {
			out = u
			return nil
		}
		n := *u
		n.APIKey, n.SecretKey = apiKey, secretKey
		b := &batch{}
		put(b, ix.users, &n) // the users table keeps apiKeys in step
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}
