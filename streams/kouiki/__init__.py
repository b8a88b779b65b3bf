"""Kouiki: event-driven data platform for 広域リージョン連携."""
