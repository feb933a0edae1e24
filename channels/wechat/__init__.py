"""The WeChat Official Account channel (wechatpy): callback, replies, customer-service outbox."""
