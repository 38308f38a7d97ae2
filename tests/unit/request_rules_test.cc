// The live view's reading of requests (src/ui/request_rules.h) and its token comparison.
#include <gtest/gtest.h>

#include "live_server.h"
#include "request_rules.h"

namespace ws::ui {

TEST(RequestRules, QueryParameters) {
  EXPECT_EQ(target_path("/events?token=a&at=1,2"), "/events");
  EXPECT_EQ(target_path("/"), "/");
  EXPECT_EQ(query_param("/events?token=abc&at=1%2C2", "at"), "1,2");
  EXPECT_EQ(query_param("/events?token=abc&at=1%2C2", "token"), "abc");
  EXPECT_EQ(query_param("/control?op=seek&value=a+b", "value"), "a b");
  EXPECT_EQ(query_param("/control?op=seek&value=", "value"), "");
  EXPECT_EQ(query_param("/?x=1", "token"), "");
  EXPECT_EQ(query_param("/", "token"), "");
  EXPECT_EQ(query_param("/?tok%65n=t", "token"), "t");  // (names are decoded too)
  EXPECT_EQ(query_param("/?token=%4", "token"), "");    // broken: nothing, not a guess
  EXPECT_EQ(query_param("/?token=%zz", "token"), "");
  EXPECT_EQ(query_param("/?token=a#frag", "token"), "a");
}

TEST(RequestRules, Cookies) {
  EXPECT_EQ(cookie_value("a=1; wstrace_token_80=xyz; b=2", "wstrace_token_80"), "xyz");
  EXPECT_EQ(cookie_value("wstrace_token_8080=xyz", "wstrace_token_80"), "");
  EXPECT_EQ(cookie_value("", "wstrace_token_80"), "");
}

TEST(RequestRules, HostAndOrigin) {
  EXPECT_TRUE(loopback_host("127.0.0.1:8080", 8080));
  EXPECT_TRUE(loopback_host("localhost:8080", 8080));
  EXPECT_TRUE(loopback_host("[::1]:8080", 8080));
  EXPECT_FALSE(loopback_host("127.0.0.1:8081", 8080));
  EXPECT_FALSE(loopback_host("127.0.0.1", 8080));
  EXPECT_FALSE(loopback_host("rebind.test:8080", 8080));
  EXPECT_FALSE(loopback_host("", 8080));
  EXPECT_TRUE(own_origin("", "127.0.0.1:8080"));
  EXPECT_TRUE(own_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(own_origin("http://evil.test", "127.0.0.1:8080"));
  EXPECT_FALSE(own_origin("null", "127.0.0.1:8080"));
}

TEST(RequestRules, SameSecret) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abc", "abd"));
  EXPECT_FALSE(same_secret("abc", "ab"));
  EXPECT_FALSE(same_secret("", "abc"));
}

}  // namespace ws::ui
