"""What demo cases say: each dispute is a :class:`Story` (who, against whom, what they did, where,
two facts) drawn from a category's parts, then told in the words of the channel that reports it.

Two different disputes of one village and week must not read alike, or the duplicate finder
(``dashboard.domain.similarity``) would suggest them as one matter: a story carries enough of its
own words (surnames, the object, a number, a place in the village) that the texts differ once the
report phrasing is left out. A dispute reported again through another channel keeps its story and
is told anew (:func:`tell` with another source), so the finder does find it.

No personal data, not even made-up data that looks real: a person is a surname and 某 (王某), a
firm is 某 and its trade (某建筑公司); no phone, ID number or house address.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dashboard.domain.vocabulary import Category, Source

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
            "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段朴闫付关")
"""Common surnames (朴 and 金 for the county's Korean villages); a person is one of them and 某."""

RURAL_PLACES = ("{g}组", "{g}组", "{g}社", "村东头", "村西头", "东屯", "西屯", "南屯", "北屯", "前屯", "后屯")
URBAN_PLACES = ("{g}号楼", "{g}号楼{k}单元", "{g}栋", "{g}栋{k}单元", "小区东区", "小区西区")
"""Where in the village (村民小组, 屯) or community (楼, 单元) the complainant lives; {g} and {k} are numbers."""
FARMING = frozenset({Category.land, Category.demolition})
"""Disputes over farmland: told with a village's places even in an urban community (its 组)."""


@dataclass(frozen=True)
class Issue:
    """One kind of dispute of a category: its object, what the other side did, facts it comes with."""

    thing: str
    deeds: tuple[str, ...]
    facts: tuple[str, ...]
    complainants: tuple[str, ...] = ()
    others: tuple[str, ...] = ()
    """Who complains and against whom, when this issue has its own (else the category's)."""


@dataclass(frozen=True)
class Parts:
    """A category's parts: who complains, against whom, and its issues (rural and urban)."""

    complainants: tuple[str, ...]
    others: tuple[str, ...]
    issues: tuple[Issue, ...]
    urban_issues: tuple[Issue, ...] = ()
    """Issues of a community (楼, 单元), where they differ from a village's."""


def _i(thing: str, deeds: str, facts: str, complainants: str = "", others: str = "") -> Issue:
    def parts(text: str) -> tuple[str, ...]:
        return tuple(text.split("|")) if text else ()
    return Issue(thing, parts(deeds), parts(facts), parts(complainants), parts(others))


PARTS: dict[Category, Parts] = {
    Category.land: Parts(
        ("{S}某", "{S}某", "{S}某夫妇", "{S}某一家", "{S}某等{p}户"),
        ("邻居{T}某", "{T}某", "同组{T}某", "承包户{T}某", "某农业合作社", "种植大户{T}某"),
        (
            _i("承包地边界", "越界耕种其{dir}的承包地|私自移动{dir}的地界桩|在两家地头{dir}挖沟改道",
               "争议地块宽约{n}米|涉及面积约{d}亩|地里种的是{crop}|二轮延包时就有争议|去年秋收后开始争执"),
            _i("宅基地界址", "在宅基地{dir}砌墙|翻建房屋时多占{dir}宅基地|在宅基地{dir}盖仓房",
               "多占约{n}平方米|界址相差约{d}米|双方各持一份老证|{dir}原有{n}棵{tree}为界"),
            _i("林地承包权", "在其承包的林地里砍了{n}棵{tree}|强行收回{dir}山坡的林地",
               "涉及林地约{n}亩|承包合同还剩{k}年|林地在{dir}山坡"),
            _i("灌溉用水", "截断水渠不让{crop}地放水|在上游{dir}私自筑坝",
               "涉及{crop}田约{n}亩|已缺水{k}天|下游{p}户受影响"),
            _i("土地流转租金", "拖欠土地流转租金{m}元|提前收回流转的{crop}地",
               "每亩租金{m}元|流转合同约定{k}年|涉及{crop}地约{n}亩"),
            _i("机动地承包", "未经公开发包承包了{dir}的机动地|拒交机动地承包费{m}元",
               "涉及机动地约{d}亩|地里种的是{crop}"),
            _i("生产路", "在{dir}生产路上种了{crop}|挖断{dir}生产路",
               "路宽约{d}米|影响{p}户秋收运粮|路长约{N}米"),
        ),
    ),
    Category.neighbour: Parts(
        ("{S}某", "{S}某", "{S}某夫妇", "{S}某一家", "老人{S}某"),
        ("邻居{T}某", "{T}某", "前院{T}某", "后院{T}某", "对门{T}某", "隔壁{T}某"),
        (
            _i("院墙", "把{dir}院墙砌到其院内|推倒了两家{dir}的共用院墙", "院墙长约{n}米|墙体偏了约{d}米|墙是{material}的"),
            _i("排水", "堵住{dir}排水沟|把雨水排进其院子{dir}", "院内积水深约{d}米|已持续{k}天|{crop}地被淹约{d}亩"),
            _i("采光", "新盖的房子遮挡其{dir}采光|在{dir}加盖的房屋离窗户只有{d}米", "新房比原房高约{k}米|两房相距约{n}米"),
            _i("柴草堆放", "在其房{dir}堆放柴草|把{crop}秸秆堆在通道上", "柴草堆长约{n}米|担心冬季失火"),
            _i("家禽散养", "散养的{fowl}进院啄食菜苗|散养的{fowl}损坏菜园", "菜园损失约{m}元|已发生{k}次"),
            _i("通道", "在{dir}通道上建仓房|用{material}堵住门前通道", "通道宽约{d}米|农机进出受阻|已堵了{n}天"),
            _i("树木遮挡", "{dir}的大{tree}遮挡其庭院|{tree}树根顶裂其院墙", "树高约{n}米|已影响{k}年"),
            _i("狗咬伤人", "家养的狗咬伤其家人|散养的狗追咬其孩子", "医疗费约{m}元|伤口缝了{k}针|打了{k}针疫苗"),
        ),
        (
            _i("楼上漏水", "家卫生间漏水渗到楼下|装修时打坏防水层", "天花板渗水约{d}平方米|已渗水{n}天|楼下{k}楼被淹"),
            _i("噪音", "夜间在家中唱歌|深夜跳绳健身|夜里搬动家具", "持续到夜里{h}点|已持续{n}天"),
            _i("楼道堆物", "在{k}楼楼道堆放杂物|在楼道停放电动车充电", "杂物占了约{d}米楼道|已有{p}户意见"),
            _i("空调外机", "把空调外机装在其{dir}窗下|空调冷凝水滴到其阳台", "外机距窗户约{d}米|已持续{n}天"),
            _i("装修", "周末装修电钻作业|午休时间装修|装修时拆了承重墙", "装修已{n}天|涉及上下{k}层住户"),
            _i("宠物", "养的{k}条狗夜间吠叫|遛狗不牵绳吓到孩子", "已持续{n}天|有{p}户联名"),
            _i("车位", "长期占用其租用车位|在其车位上放地锁", "已占用{n}天|车位月租{m}元"),
        ),
    ),
    Category.marriage_family: Parts(
        ("{S}某", "{S}某", "{S}某（女）"),
        ("前夫{T}某", "前妻{T}某", "丈夫{T}某", "妻子{T}某"),
        (
            _i("赡养老人", "拒绝承担赡养费用|不让老人在家居住|不给老人看病钱",
               "老人已{age}岁|{k}个子女轮流赡养未落实|每月生活费{m}元无人出",
               "老人{S}某|{S}某老人|{S}某夫妇", "其子{S}某|其长子{S}某|其女{S}某|儿媳{T}某|其次子{S}某"),
            _i("离婚财产分割", "离婚后不肯分割房屋|私自卖掉共同购买的{machine}|把共同存款转走",
               "涉及房屋{k}间|共同存款约{w}万元|已分居{n}个月"),
            _i("子女抚养费", "拖欠子女抚养费|不让其探望孩子", "每月抚养费{m}元|已拖欠{n}个月|孩子{k}岁"),
            _i("老宅继承", "独占父母留下的老宅|不同意分{dir}老宅", "老宅{k}间|父母去世已{n}年",
               "", "其兄{S}某|其弟{S}某|其姐{S}某|其妹{S}某|其侄{S}某"),
            _i("彩礼返还", "拒绝返还彩礼{w}万元|婚后不到一年提出离婚", "彩礼约{w}万元|结婚{n}个月",
               "{S}某|{S}某父亲", "女方{T}某家|前妻{T}某|男方{T}某家"),
            _i("分家析产", "分家时多占{crop}地|不认分家单", "涉及耕地约{d}亩|分家已{n}年",
               "", "其兄{S}某|其弟{S}某|其侄{S}某"),
            _i("家庭矛盾", "酒后与其吵闹|长期不回家也不给生活费", "结婚{n}年|孩子{k}岁",
               "{S}某（女）|妻子{S}某", "丈夫{T}某"),
        ),
    ),
    Category.labour_wages: Parts(
        ("{trade}{S}某", "{S}某等{p}名{trade}", "务工人员{S}某", "{S}某等{p}人"),
        ("某建筑公司", "包工头{T}某", "某装饰公司", "某饭店", "某农业合作社", "某砖厂", "某物流公司",
         "某木材加工厂", "某米业公司", "某养殖场", "某劳务队", "某木耳种植基地", "工头{T}某"),
        (
            _i("工资", "拖欠其{k}月份以来的工资|以工程未结算为由不发工资|完工后不见人",
               "共计约{w}万元|已拖欠{n}个月|干了{k}个月活|工地在{site}"),
            _i("工钱", "拖欠其工钱{m}元|只给了一半工钱", "工钱{m}元|去年{season}干的活|干了{n}天|活在{site}"),
            _i("劳务费", "拒付劳务费{w}万元|说要等甲方拨款才付劳务费", "劳务费约{w}万元|约定完工后{n}天内结清|工地在{site}"),
            _i("加班费", "不给加班费|扣发加班费{m}元", "加班约{k}天|应付约{m}元"),
            _i("工伤医疗费", "不承担工伤医疗费|受伤后将其辞退", "住院{n}天|医疗费约{m}元|在{site}干活时摔伤"),
        ),
    ),
    Category.debt: Parts(
        ("{S}某", "{S}某", "{S}某夫妇", "个体户{S}某"),
        ("{T}某", "亲戚{T}某", "同村{T}某", "合伙人{T}某", "某粮食收购点", "某农机销售点", "粮贩{T}某"),
        (
            _i("借款", "借了{w}万元后不还|以种种理由拖着不还", "借款约{w}万元|已逾期{n}个月|有欠条|借钱时说用于买{machine}"),
            _i("粮款", "收了{n}吨{crop}后拖欠粮款|只付了一部分粮款", "收了{crop}约{n}吨|欠粮款约{w}万元", "", "某粮食收购点|粮贩{T}某|某米业公司"),
            _i("货款", "拖欠货款{m}元|收货后不付款", "货款{m}元|已拖欠{n}个月|欠的是{item}钱", "个体户{S}某|{S}某", "{T}某|某超市|某饭店"),
            _i("合伙分红", "不分合伙收益|不肯退还入股钱{w}万元", "入股约{w}万元|合伙{k}年|合伙养{animal}", "", "合伙人{T}某"),
            _i("农机款", "买了{machine}后不付尾款|{machine}分期款停付", "尾款约{w}万元|约定{k}个月付清", "农机经销商{S}某|{S}某", "{T}某|同村{T}某"),
            _i("买牛款", "买了{k}头牛后欠款不还|称牛有病拒付余款", "买了{k}头牛|欠款约{w}万元"),
        ),
    ),
    Category.property_mgmt: Parts(
        ("业主{S}某", "{S}某等{p}户业主", "业主代表{S}某", "业主{S}某夫妇"),
        ("某物业公司", "小区物业", "某供热公司", "物业经理{T}某", "某物业服务中心"),
        (),
        (
            _i("物业费", "服务不到位仍催缴物业费|物业费上涨未公示|停水停电催缴物业费",
               "涉及{p}户|每平方米涨了{c}角|欠费{k}年的户被停水"),
            _i("电梯", "电梯坏了{n}天不修|维修后电梯仍常停运", "电梯已停运{n}天|{k}号电梯受影响|老人下楼困难"),
            _i("供暖", "供暖不热仍全额收费|未到停暖日就停暖", "室温仅{t}度|涉及{p}户|供暖费每平方米{c}元", "", "某供热公司|热力站"),
            _i("楼顶漏水", "楼顶漏水不维修|外墙渗水拖着不修", "已报修{k}次|渗水已{n}天|顶楼{k}户受影响"),
            _i("停车位", "把公共车位出租|车位费上涨到每月{m}元", "涉及车位约{n}个|每月车位费{m}元"),
            _i("维修基金", "使用维修基金未征求业主意见|维修基金账目不公开", "涉及金额约{w}万元|涉及{p}户"),
            _i("垃圾清运", "垃圾{k}天不清运|取消了{k}个垃圾桶", "垃圾已堆放{n}天|涉及{k}个单元"),
        ),
    ),
    Category.consumer: Parts(
        ("消费者{S}某", "{S}某", "种植户{S}某", "{S}某等{p}户"),
        ("某农资店", "某家电商场", "某健身房", "某装修公司", "某二手车行", "某超市", "某手机店", "某培训机构"),
        (
            _i("种子质量", "卖的{crop}种子出苗率低|卖的种子不是包装上的品种", "种了约{n}亩{crop}|出苗不到{k}成", "", "某农资店|某种子站|种子经销商{T}某"),
            _i("化肥质量", "卖的化肥有效成分不足|卖的化肥结块", "买了约{n}袋|花了{m}元|用在{crop}地里", "", "某农资店|化肥经销商{T}某"),
            _i("家电退货", "卖的{appliance}坏了不给退|{appliance}安装后漏水不管", "花了{m}元|买了{k}个月", "", "某家电商场|某电器城|某手机店"),
            _i("预付卡退款", "关门后预付卡不退|预付卡余额不认", "卡内余额约{m}元|涉及{p}人", "", "某健身房|某培训机构|某理发店|某洗浴中心"),
            _i("二手车", "隐瞒事故车情况|卖车后{n}天不过户", "车价约{w}万元|买车{k}个月", "", "某二手车行|车贩{T}某"),
            _i("装修质量", "装修后墙面开裂|地板起拱不修", "装修款约{w}万元|完工{k}个月", "", "某装修公司|装修队{T}某"),
        ),
    ),
    Category.traffic: Parts(
        ("{S}某", "{S}某", "电动车主{S}某", "三轮车主{S}某", "行人{S}某"),
        ("{T}某", "货车司机{T}某", "农用车主{T}某", "某物流公司", "出租车司机{T}某"),
        (
            _i("剐蹭", "开{vehicle}剐蹭其轿车|倒车时撞坏其{vehicle}", "车辆损失约{m}元|事故发生在{road}"),
            _i("相撞", "骑电动车与其{vehicle}相撞|骑车逆行撞倒其", "{hurt}受伤|医疗费约{m}元|事故发生在{road}"),
            _i("停车碰撞", "停车时碰坏其{vehicle}|开车门时撞倒其电动车", "修车费约{m}元|事故发生在{road}"),
            _i("撞伤行人", "开{vehicle}撞伤其后只付了部分医疗费|开{vehicle}撞伤其", "住院{n}天|医疗费约{w}万元|{hurt}骨折"),
            _i("刮倒院墙", "开{vehicle}刮倒其院墙|倒车撞坏其大门", "院墙倒塌约{n}米|损失约{m}元"),
        ),
    ),
    Category.demolition: Parts(
        ("{S}某", "{S}某等{p}户村民", "{S}某一家", "被征收户{S}某"),
        ("征收单位", "某开发公司", "某项目指挥部", "拆迁工作组", "某道路建设项目部"),
        (
            _i("征地补偿款", "征地补偿款{n}天未发|补偿标准比邻村低", "涉及土地约{d}亩|补偿款约{w}万元|地里种的是{crop}"),
            _i("安置房", "安置房交付延期{n}个月|安置房面积与协议不符", "已延期{n}个月|面积相差约{k}平方米"),
            _i("青苗补偿", "未付青苗补偿就开工|{crop}青苗补偿算少了", "涉及{crop}约{n}亩|青苗费约{m}元"),
            _i("附着物补偿", "仓房和{tree}未计入补偿|围墙和水井漏算", "仓房约{n}平方米|{tree}约{n}棵"),
            _i("过渡安置费", "停发过渡安置费|过渡安置费每月只给{m}元", "已停发{k}个月|每月{m}元"),
        ),
    ),
    Category.environment: Parts(
        ("{S}某", "{S}某等{p}户", "周边住户{S}某", "{S}某等{p}人"),
        ("某养猪场", "某养牛场", "某砂石场", "某木材加工厂", "某烧烤店", "某施工队", "某洗车店", "养殖户{T}某"),
        (
            _i("异味", "粪污堆放在{dir}产生异味|粪水流到村路上", "距住户约{N}米|已持续{n}天|养了约{N}头{animal}", "", "某养猪场|某养牛场|养殖户{T}某|某肉牛养殖场"),
            _i("粉尘", "生产扬尘大|拉砂车辆遗撒", "距住户约{N}米|涉及周边{p}户", "", "某砂石场|某木材加工厂|某砖厂|某石料厂"),
            _i("夜间施工噪音", "夜间施工噪音扰民|凌晨{k}点装卸作业", "持续到夜里{h}点|已持续{n}天", "", "某施工队|某建筑工地|某物流公司"),
            _i("污水", "把污水排进{dir}河沟|污水渗到附近水井", "河沟约{N}米发黑|已持续{n}天", "", "某洗车店|某豆腐坊|某养殖场|某米业公司"),
            _i("油烟", "油烟直排住户窗口|夜间营业噪音大", "营业到夜里{h}点|涉及{p}户", "", "某烧烤店|某饭店|某串店"),
            _i("焚烧", "在{dir}地头焚烧秸秆|焚烧垃圾", "浓烟飘进{k}户院内|已烧了{k}次", "", "{T}某|邻村{T}某|承包户{T}某"),
        ),
    ),
    Category.medical: Parts(
        ("患者{S}某", "{S}某", "患者家属{S}某", "{S}某母亲"),
        ("某诊所", "某卫生院", "某医院", "某药店", "某口腔诊所", "村卫生室"),
        (
            _i("用药", "用药后出现过敏|开的药与病情不符", "花费约{m}元|治疗{k}天", "", "某诊所|某药店|村卫生室"),
            _i("术后感染", "手术后伤口感染|术后复查收费过高", "住院{n}天|要求赔偿约{w}万元", "", "某医院|某卫生院"),
            _i("医疗费用", "重复收取检查费|收费与清单不符", "多收约{m}元|住院{n}天", "", "某医院|某卫生院"),
            _i("误诊", "把{hurt}骨折当扭伤处理|延误治疗{k}天", "延误约{k}天|后续治疗花了{m}元", "", "某诊所|某卫生院|村卫生室"),
            _i("牙科治疗", "种牙后反复松动|做的牙冠脱落", "花费约{w}万元|治疗{k}个月", "", "某口腔诊所|某牙科诊所"),
        ),
    ),
    Category.other: Parts(
        ("{S}某", "{S}某", "{S}某等{p}人", "商户{S}某"),
        ("{T}某", "某快递网点", "房东{T}某", "养鱼户{T}某", "某广场舞队", "租户{T}某"),
        (
            _i("房屋租赁", "提前收回出租房|不退房屋押金{m}元", "押金{m}元|租期还剩{k}个月", "", "房东{T}某|租户{T}某"),
            _i("快递丢失", "丢了其快递不赔|包裹破损拒赔", "物品价值约{m}元|已过去{n}天", "", "某快递网点|某驿站"),
            _i("鱼塘", "承包期未满收回鱼塘|放水时淹了其鱼塘", "鱼塘约{d}亩|损失约{w}万元", "", "养鱼户{T}某|村委会|发包方{T}某"),
            _i("广场舞", "跳广场舞音响声太大|晚上在楼下跳舞", "持续到晚上{h}点|涉及{p}户", "", "某广场舞队|领舞的{T}某"),
            _i("水电费分摊", "不肯分摊共用水电费|私接电线", "费用约{m}元|已{k}个月", "", "邻居{T}某|租户{T}某|合租的{T}某"),
        ),
    ),
}
WORDS: dict[str, tuple[str, ...]] = {
    "dir": ("东侧", "西侧", "南侧", "北侧", "东南角", "东北角", "西南角", "西北角", "房后", "房前"),
    "crop": ("玉米", "水稻", "大豆", "高粱", "谷子", "烟叶", "白菜", "土豆"),
    "tree": ("杨树", "柳树", "榆树", "松树", "果树", "李子树"),
    "material": ("砖", "石头", "水泥板", "铁栅栏", "木杆"),
    "fowl": ("鸡", "鸭", "鹅", "鸡鸭"),
    "animal": ("猪", "牛", "羊", "鸡", "梅花鹿"),
    "machine": ("收割机", "拖拉机", "插秧机", "旋耕机", "三轮车"),
    "item": ("化肥", "饲料", "建材", "木耳菌包", "农药", "煤"),
    "appliance": ("冰箱", "空调", "洗衣机", "热水器", "电视"),
    "vehicle": ("农用车", "货车", "轿车", "三轮车", "面包车", "拖拉机"),
    "hurt": ("腿部", "手臂", "肋骨", "脚踝", "头部"),
    "site": ("镇上新楼盘", "村里大棚项目", "县城小区", "学校工地", "水库工程", "木耳基地", "道路工程"),
}
"""Nouns a story is told with; drawn per story, they keep two disputes of one kind apart."""
TRADES = ("瓦工", "木工", "钢筋工", "力工", "电焊工", "装修工", "保洁员", "帮厨", "季节工", "插秧工", "收割工",
          "货车司机", "保安", "采摘工", "水暖工")
ROADS = ("村路口", "屯口", "乡道路口", "县道旁", "集市附近", "学校门前", "加油站附近", "桥头")
SEASONS = ("春天", "夏天", "秋收时", "冬天")

FRAMES: dict[Source, tuple[str, ...]] = {
    Source.grid_report: ("网格员上报：{core}，{ask}。", "网格员巡查发现，{core}，{ask}。", "网格员上报，{core}，双方情绪激动，{ask}。"),
    Source.hotline_12345: ("市民来电反映，{core}，{ask}。", "来电称{core}，{ask}。", "市民来电，{core}，希望尽快解决。"),
    Source.walk_in: ("群众来访反映，{core}，{ask}。", "来访称{core}，{ask}。"),
    Source.online: ("网上诉求：{core}，{ask}。", "网上反映，{core}，{ask}。"),
    Source.petition: ("信访反映，{core}，多次协商未果，{ask}。", "信访诉求：{core}，{ask}。"),
    Source.police_110: ("警情转来：{core}，民警已到场，{ask}。", "民警到场处理警情，{core}，{ask}。"),
    Source.court: ("法院委派诉前调解：{core}，{ask}。",),
    Source.other: ("{core}，{ask}。", "转来诉求，{core}，{ask}。"),
}
"""How each channel words a report: the phrasing the duplicate finder leaves out (``COMMON_PHRASES``)."""
ASKS = ("请求调解", "要求处理", "希望尽快解决", "请有关部门协调", "要求给个说法", "要求协调解决")
CORES = (
    "{a}与{b}因{o}发生纠纷，{b}{v}，{f}",
    "{a}称{b}{v}，{f}",
    "{a}反映{b}{v}，{f}",
    "{a}反映{o}问题：{b}{v}，{f}",
    "{b}{v}，{f}，{a}与其协商未果",
)
"""What happened, in a few word orders; a retelling of one story picks another."""


@dataclass(frozen=True)
class Story:
    """One dispute, whichever channel tells it: these words stay, the phrasing changes."""

    category: Category
    complainant: str
    other: str
    thing: str
    deed: str
    facts: tuple[str, ...]
    where: str


def _fill(template: str, rng: random.Random, people: int, names: dict[str, str]) -> str:
    """A part with its placeholders drawn (only the ones it holds are drawn: the cost stays small);
    ``names`` holds what one story says once: its surnames, ``S`` the complainant's (their family
    shares it) and ``T`` another, its sums of money ``m`` (元) and ``w`` (万元) and its counts ``n``
    (days, months, 亩…) and ``N`` (metres, head of cattle): a deed and a fact that both say how long
    or how much agree."""
    if "{" not in template:
        return template
    values = dict(names)
    for key in ("g", "d", "p", "k", "age", "c", "t", "h", "trade", "road", "season", *WORDS):
        if "{" + key + "}" in template:
            values[key] = _value(key, rng, people)
    return template.format(**values)


def _value(key: str, rng: random.Random, people: int) -> str:
    if key == "g":
        return str(rng.randint(1, 12))
    if key == "n":
        return str(rng.randint(2, 12) if rng.random() < 0.6 else rng.randint(3, 40))
    if key == "N":
        return str(rng.randint(10, 300))
    if key == "d":
        return f"{rng.randint(3, 150) / 10:g}"
    if key == "m":
        return str(rng.randint(3, 199) * 100)
    if key == "w":
        return f"{rng.randint(8, 300) / 10:g}"
    if key == "p":
        return str(max(people, 2))
    if key == "k":
        return str(rng.randint(1, 6))
    if key == "age":
        return str(rng.randint(68, 92))
    if key in WORDS:
        return rng.choice(WORDS[key])
    if key == "c":
        return str(rng.randint(2, 9))
    if key == "t":
        return str(rng.randint(8, 16))
    if key == "h":
        return str(rng.randint(10, 12)) if rng.random() < 0.7 else str(rng.randint(1, 2))
    if key == "trade":
        return rng.choice(TRADES)
    if key == "road":
        return rng.choice(ROADS)
    return rng.choice(SEASONS)


def story(rng: random.Random, category: Category, *, people: int = 1, urban: bool = False) -> Story:
    """A new dispute of ``category``; ``urban`` for a community (楼, 单元) rather than a village (组, 屯).
    ``people`` is the case's number of people, said where the text counts them."""
    parts = PARTS[category]
    issues = (parts.urban_issues or parts.issues) if urban else (parts.issues or parts.urban_issues)
    issue = rng.choice(issues)
    first = rng.randrange(len(SURNAMES))
    names = {"S": SURNAMES[first], "T": SURNAMES[(first + rng.randrange(1, len(SURNAMES))) % len(SURNAMES)],
             **{key: _value(key, rng, people) for key in ("m", "w", "n", "N")}}  # said once, said the same
    complainants = issue.complainants or parts.complainants
    if people < 2:
        complainants = tuple(c for c in complainants if "{p}" not in c) or complainants
    complainant = _fill(rng.choice(complainants), rng, people, names)
    other = _fill(rng.choice(issue.others or parts.others), rng, people, names)
    places = URBAN_PLACES if urban and category not in FARMING else RURAL_PLACES
    where = _fill(rng.choice(places), rng, people, names)
    facts = tuple(_fill(f, rng, people, names) for f in rng.sample(issue.facts, 2))
    deed = _fill(rng.choice(issue.deeds), rng, people, names)
    return Story(category, complainant, other, issue.thing, deed, facts, where)


def tell(rng: random.Random, s: Story, source: Source) -> str:
    """The story as ``source`` reports it: the channel's phrasing around one word order of the facts,
    the complainant's place in the village said or (sometimes) left out, a fact sometimes left out."""
    who = s.where + s.complainant if rng.random() < 0.95 else s.complainant
    roll = rng.random()
    facts = s.facts if roll < 0.5 else s.facts[::-1] if roll < 0.8 else s.facts[:1]
    core = rng.choice(CORES).format(a=who, b=s.other, o=s.thing, v=s.deed, f="，".join(facts))
    return rng.choice(FRAMES[source]).format(core=core, ask=rng.choice(ASKS))
