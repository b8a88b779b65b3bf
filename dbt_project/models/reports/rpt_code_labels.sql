{#- Japanese labels of the contract v1 enums shown on the dashboards (theme, status, stage,
    source type); one place, so every rpt_* model labels codes the same way. -#}
with

labels (code_type, code, name_ja, sort_order) as (

    values
    ('theme', 'TOURISM', '観光・インバウンド', 1),
    ('theme', 'INDUSTRY', '産業集積・地域産業', 2),
    ('theme', 'GX', 'GX・脱炭素', 3),
    ('theme', 'DX', 'DX・デジタル実装', 4),
    ('theme', 'TALENT', '人材育成・確保', 5),
    ('theme', 'TRANSPORT', '地域交通', 6),
    ('theme', 'INFRA', 'インフラ整備・管理', 7),
    ('theme', 'MEDICAL', '医療・介護', 8),
    ('theme', 'FOOD_EXPORT', '農林水産物・食品輸出', 9),
    ('theme', 'LOGISTICS', '物流', 10),
    ('theme', 'DISASTER', '防災', 11),
    ('theme', 'OTHER', 'その他', 12),
    ('status', 'not_started', '未着手', 1),
    ('status', 'on_track', '順調', 2),
    ('status', 'at_risk', '要注意', 3),
    ('status', 'delayed', '遅延', 4),
    ('status', 'completed', '完了', 5),
    ('status', 'suspended', '中断', 6),
    ('status', 'done', '完了', 7),
    ('status', 'dropped', '取りやめ', 8),
    ('stage', 'planned', '計画', 1),
    ('stage', 'committed', '確定', 2),
    ('stage', 'executed', '執行', 3),
    ('source_type', 'national_grant', '国の交付金・補助金', 1),
    ('source_type', 'prefecture', '都道府県負担', 2),
    ('source_type', 'municipality', '市町村負担', 3),
    ('source_type', 'private', '民間資金', 4),
    ('source_type', 'corporate_furusato', '企業版ふるさと納税', 5),
    ('source_type', 'loan', '融資・政策金融', 6),
    ('source_type', 'other', 'その他', 7)

),

final as (

    select
        code_type || ':' || code as code_label_key,
        code_type,
        code,
        name_ja,
        sort_order
    from labels

)

select * from final
