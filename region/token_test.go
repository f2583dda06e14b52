package region

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenFuncSignsWithAnEntraToken(t *testing.T) {
	cred := TokenFunc(func(context.Context) (string, error) { return "eyJ0.abc.def", nil })
	auth, err := cred.Authorization(context.Background(), "GET", "dbs", "dbs/d", "Thu, 27 Apr 2017 00:51:12 GMT")
	require.NoError(t, err)
	assert.Equal(t, url.QueryEscape("type=aad&ver=1.0&sig=eyJ0.abc.def"), auth)
}

func TestTokenFuncErrorsWrapTheCause(t *testing.T) {
	cause := errors.New("token source down")
	for _, f := range []TokenFunc{
		func(context.Context) (string, error) { return "", cause },
		func(context.Context) (string, error) { return "", nil },
	} {
		auth, err := f.Authorization(context.Background(), "GET", "", "", "Thu, 27 Apr 2017 00:51:12 GMT")
		require.Error(t, err)
		assert.True(t, errors.Is(err, cause) || errors.Is(err, ErrEmptyToken), err.Error())
		assert.True(t, strings.HasPrefix(err.Error(), "region: "), err.Error())
		assert.Equal(t, 1, strings.Count(err.Error(), "region:"), err.Error())
		assert.Empty(t, auth)
	}
}
