// Owning pointers for libnftnl objects: each is freed with the library's own function.
#pragma once

// clang-format off
#include <cstdio>  // libnftnl's headers use FILE without including <stdio.h>
// clang-format on
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include <memory>
#include <new>

namespace fnft::netlink {

struct NftnlFree {
  void operator()(nftnl_table* p) const { nftnl_table_free(p); }
  void operator()(nftnl_chain* p) const { nftnl_chain_free(p); }
  void operator()(nftnl_rule* p) const { nftnl_rule_free(p); }
  void operator()(nftnl_expr* p) const { nftnl_expr_free(p); }
  void operator()(nftnl_expr_iter* p) const { nftnl_expr_iter_destroy(p); }
  void operator()(nftnl_udata_buf* p) const { nftnl_udata_buf_free(p); }
  void operator()(nftnl_flowtable* p) const { nftnl_flowtable_free(p); }
};

using NftnlTable = std::unique_ptr<nftnl_table, NftnlFree>;
using NftnlChain = std::unique_ptr<nftnl_chain, NftnlFree>;
using NftnlRule = std::unique_ptr<nftnl_rule, NftnlFree>;
using NftnlExpr = std::unique_ptr<nftnl_expr, NftnlFree>;
using NftnlExprIter = std::unique_ptr<nftnl_expr_iter, NftnlFree>;
using NftnlUdataBuf = std::unique_ptr<nftnl_udata_buf, NftnlFree>;
using NftnlFlowtable = std::unique_ptr<nftnl_flowtable, NftnlFree>;

// libnftnl returns NULL only when malloc fails.
template <typename Owner, typename Raw>
Owner owned_or_throw(Raw* raw) {
  if (raw == nullptr) throw std::bad_alloc();
  return Owner(raw);
}

inline NftnlTable make_table() {
  return owned_or_throw<NftnlTable>(nftnl_table_alloc());
}
inline NftnlChain make_chain() {
  return owned_or_throw<NftnlChain>(nftnl_chain_alloc());
}
inline NftnlRule make_rule() {
  return owned_or_throw<NftnlRule>(nftnl_rule_alloc());
}
inline NftnlFlowtable make_flowtable() {
  return owned_or_throw<NftnlFlowtable>(nftnl_flowtable_alloc());
}
inline NftnlExpr make_expr(const char* kind) {
  return owned_or_throw<NftnlExpr>(nftnl_expr_alloc(kind));
}

}  // namespace fnft::netlink
